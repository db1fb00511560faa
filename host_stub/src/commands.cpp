#include "commands.hpp"

#include "config/config_error.hpp"
#include "platform/native_path.hpp"
#include "plugin_loader.hpp"
#include "progress_line.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <sstream>

namespace jarvis::host {

std::atomic<bool> interrupted{false};

namespace {

using nlohmann::json;

spdlog::level::level_enum to_spdlog(int32_t level)
{
    switch (level) {
    case JV_LOG_TRACE: return spdlog::level::trace;
    case JV_LOG_DEBUG: return spdlog::level::debug;
    case JV_LOG_INFO: return spdlog::level::info;
    case JV_LOG_WARN: return spdlog::level::warn;
    default: return spdlog::level::err;
    }
}

int32_t to_jv_level(spdlog::level::level_enum level)
{
    switch (level) {
    case spdlog::level::trace: return JV_LOG_TRACE;
    case spdlog::level::debug: return JV_LOG_DEBUG;
    case spdlog::level::info: return JV_LOG_INFO;
    case spdlog::level::warn: return JV_LOG_WARN;
    default: return JV_LOG_ERROR;
    }
}

// Loads the plugins and creates a provider of the named one (by default, the one the loadout routes to).
vision::Provider open_provider(const HostConfig& config, const std::string& wanted, const char* why)
{
    const PluginScan scan = scan_plugin_dir(config.plugin_dir);
    for (const auto& failure : scan.errors)
        spdlog::warn("skipped plugin {}: {}", utf8_path(failure.path), failure.message);
    const LoadedPlugin* chosen = scan.find(wanted);
    if (chosen == nullptr)
        throw ConfigError(std::string(why) + " plugin '" + wanted + "', which is not in " + utf8_path(config.plugin_dir));
    spdlog::debug("routing to {} {} ({})", chosen->plugin.name(), chosen->plugin.version(), utf8_path(chosen->path));
    auto log = [](int32_t level, std::string_view message) { spdlog::log(to_spdlog(level), "{}", message); };
    return vision::Provider(chosen->plugin, config.document.dump(), log, to_jv_level(spdlog::get_level()));
}

vision::Provider open_routed_provider(const HostConfig& config)
{
    return open_provider(config, config.loadout.plugin_name(), "the loadout routes to");
}

// Runs one plan or tool call with Ctrl-C and the progress line wired up; returns its result document.
template <class Method>
json run_with_progress(vision::Provider& provider, Method method, const json& request)
{
    ProgressLine progress;
    vision::CallHandlers handlers;
    handlers.is_cancelled = [] { return interrupted.load(); };
    handlers.on_progress = [&](std::string_view stage, double fraction) { progress.show(stage, fraction); };
    const json result = json::parse((provider.*method)(request.dump(), handlers));
    progress.clear();
    return result;
}

json run_tool(vision::Provider& provider, const json& request) { return run_with_progress(provider, &vision::Provider::tool, request); }

// The "conversation" of a previous `ask --json` output (the whole file, or its last line after streamed deltas).
json read_conversation(const std::string& file)
{
    std::ifstream in(native_path(file), std::ios::binary);
    if (!in)
        throw ConfigError("--continue '" + file + "': cannot read it");
    std::stringstream text;
    text << in.rdbuf();
    std::string content = text.str();
    json document = json::parse(content, nullptr, false);
    if (document.is_discarded()) {
        while (!content.empty() && (content.back() == '\n' || content.back() == '\r'))
            content.pop_back();
        document = json::parse(content.substr(content.rfind('\n') + 1), nullptr, false);
    }
    if (!document.is_object() || !document.contains("conversation") || !document["conversation"].is_object() ||
        !document["conversation"].contains("plugin") || !document["conversation"]["plugin"].is_string())
        throw ConfigError("--continue '" + file + "': not the output of `ask --json` (it has no conversation)");
    return document["conversation"];
}

json make_request(const CliOptions& cli)
{
    if (!cli.video && !cli.continue_file)
        throw ConfigError(cli.command + " needs --video SRC (a local path or an http(s) URL)");
    if (!cli.prompt)
        throw ConfigError(cli.command + " needs --prompt TEXT");
    json request = {{"prompt", *cli.prompt}, {"stream", cli.stream}};
    if (cli.video)
        request["video"] = *cli.video;
    if (cli.continue_file)
        request["conversation"] = read_conversation(*cli.continue_file);
    return request;
}

// A follow-up goes to the plugin its conversation belongs to; anything else where the loadout routes.
vision::Provider provider_for(const json& request, const HostConfig& config)
{
    if (request.contains("conversation"))
        return open_provider(config, request["conversation"]["plugin"].get<std::string>(), "the conversation belongs to");
    return open_routed_provider(config);
}

} // namespace

ExitCode run_plugins(const CliOptions& cli, const HostConfig& config)
{
    const PluginScan scan = scan_plugin_dir(config.plugin_dir);
    const std::string selected = config.loadout.plugin_name();
    if (cli.json) {
        json out = {{"plugins", json::array()}, {"errors", json::array()}};
        for (const auto& p : scan.plugins)
            out["plugins"].push_back({{"name", p.plugin.name()},
                                      {"version", p.plugin.version()},
                                      {"abi", p.plugin.abi()},
                                      {"path", utf8_path(p.path)},
                                      {"selected", p.plugin.name() == selected}});
        for (const auto& e : scan.errors)
            out["errors"].push_back({{"path", utf8_path(e.path)}, {"message", e.message}});
        std::cout << out.dump(2) << std::endl;
    } else {
        for (const auto& p : scan.plugins)
            std::cout << (p.plugin.name() == selected ? "* " : "  ") << p.plugin.name() << " " << p.plugin.version()
                      << " (ABI " << p.plugin.abi() << ") " << utf8_path(p.path) << "\n";
        for (const auto& e : scan.errors)
            std::cout << "  failed: " << utf8_path(e.path) << ": " << e.message << "\n";
        if (scan.plugins.empty() && scan.errors.empty())
            std::cout << "no plugins in " << utf8_path(config.plugin_dir) << "\n";
        std::cout.flush();
    }
    return exit_ok;
}

ExitCode run_plan(const CliOptions& cli, const HostConfig& config)
{
    const json request = make_request(cli);
    vision::Provider provider = provider_for(request, config);
    const json plan = run_with_progress(provider, &vision::Provider::plan, request);
    if (cli.json) {
        std::cout << plan.dump(2) << std::endl;
        return exit_ok;
    }
    const json& media = plan.at("media");
    std::cout << "plugin:   " << plan.value("plugin", "") << "\n"
              << "endpoint: " << plan.value("endpoint", "") << "\n"
              << "video:    " << media.value("source", "") << " (" << media.value("width", 0) << "x"
              << media.value("height", 0) << ", " << media.value("duration_s", 0.0) << " s), delivery "
              << media.value("delivery", "") << "\n";
    if (plan.contains("estimate"))
        std::cout << "tokens:   about " << plan["estimate"].value("prompt_tokens", 0) << " prompt tokens, "
                  << plan["estimate"].value("visual_tokens", 0) << " of them visual\n";
    for (const auto& w : plan.value("warnings", json::array()))
        std::cout << "warning:  " << w.get<std::string>() << "\n";
    std::cout.flush();
    return exit_ok;
}

ExitCode run_ask(const CliOptions& cli, const HostConfig& config)
{
    const json request = make_request(cli);
    vision::Provider provider = provider_for(request, config);
    ProgressLine progress;
    bool answering = false; // once the answer is being printed, the progress line would cut into it
    vision::CallHandlers handlers;
    handlers.is_cancelled = [] { return interrupted.load(); };
    handlers.on_progress = [&](std::string_view stage, double fraction) {
        if (!answering)
            progress.show(stage, fraction);
    };
    if (cli.stream)
        handlers.on_text = [&](std::string_view text) {
            if (!answering)
                progress.clear();
            answering = true;
            if (cli.json)
                std::cout << json{{"delta", std::string(text)}}.dump() << "\n";
            else
                std::cout << text;
            std::cout.flush();
        };
    const json result = json::parse(provider.ask(request.dump(), handlers));
    progress.clear();
    if (cli.json)
        std::cout << result.dump(cli.stream ? -1 : 2) << std::endl;
    else if (cli.stream)
        std::cout << std::endl;
    else
        std::cout << result.value("answer", "") << std::endl;
    return exit_ok;
}

ExitCode run_vllm_command(const CliOptions& cli, const HostConfig& config)
{
    vision::Provider provider = open_routed_provider(config);
    const json result = run_tool(provider, {{"tool", "vllm_command"}, {"format", cli.format.value_or("docker")}});
    const std::string& command = result.at("command").get_ref<const std::string&>();
    std::cout << command << (command.empty() || command.back() != '\n' ? "\n" : "");
    std::cout.flush();
    return exit_ok;
}

ExitCode run_vram(const CliOptions& cli, const HostConfig& config)
{
    vision::Provider provider = open_routed_provider(config);
    json out = run_tool(provider, {{"tool", "vram"}});
    out.erase("warnings");
    if (cli.json) {
        std::cout << out.dump(2) << std::endl;
        return exit_ok;
    }
    auto number = [&](const char* key) { return out.at(key).get<double>(); };
    std::cout << fmt::format("{:.1f} GB weights + {:.1f} GB KV cache + {:.1f} GB vision encoder ({} video tokens) + 0.5 GB margin = "
                             "{:.1f} GB; with {:.1f} GB reserved for speech{}, {} on a {:.1f} GB card\n",
                             number("weights_gb"), number("kv_cache_gb"), number("encoder_gb"), out.at("video_tokens").get<int64_t>(),
                             number("peak_gb"), number("reserve_gb"),
                             out.value("hardware_decode_gb", 0.0) > 0 ? fmt::format(" and {:.1f} GB for our GPU decoding", number("hardware_decode_gb")) : "",
                             out.at("fits").get<bool>() ? "fits" : "does NOT fit", number("total_gb"))
              << fmt::format("vLLM's --gpu-memory-utilization: {:.2f}\n", number("gpu_memory_utilization"));
    if (out.contains("suggestion")) {
        const json& s = out["suggestion"];
        std::cout << fmt::format("to fit: #max_frames={}#max_pixels={}#fps={:.2g}\n", s.at("max_frames").get<int64_t>(),
                                 s.at("max_pixels").get<int64_t>(), s.at("fps").get<double>());
    }
    for (const auto& n : out.at("notes"))
        std::cout << "note: " << n.get<std::string>() << "\n";
    std::cout.flush();
    return exit_ok;
}

ExitCode run_probe(const CliOptions& cli, const HostConfig& config)
{
    vision::Provider provider = open_provider(config, "native_video", "probe needs the");
    json request = {{"tool", "probe"}};
    if (cli.video)
        request["video"] = *cli.video; // the server's decoding measured on this video's codec and size
    json report = run_tool(provider, request);
    report.erase("warnings");
    // No delivery works: the server refused them all (exit 5), though the report is printed in full.
    const ExitCode code = report.value("ok", false) ? exit_ok : exit_refused;
    if (cli.json) {
        std::cout << report.dump(2) << std::endl;
        return code;
    }
    const auto& models = report.at("models");
    std::cout << "endpoint: " << report.value("endpoint", "") << " (serves " << models.size() << " model"
              << (models.size() == 1 ? "" : "s") << (report.value("model_served", false) ? ", including " : ", not ")
              << report.value("model", "") << ")\n";
    for (const auto& r : report.at("deliveries")) {
        std::cout << "  " << r["delivery"].get<std::string>() << ": ";
        if (r["ok"].get<bool>())
            std::cout << "works, " << r["prompt_tokens"].get<int>() << " prompt tokens, " << r["latency_s"].get<double>() << " s\n";
        else
            std::cout << "refused: " << r["error"].get<std::string>() << (r.contains("advice") ? "\n      -> " + r["advice"].get<std::string>() : "")
                      << "\n";
    }
    if (report.contains("server_decoding"))
        std::cout << "server decoding: " << report["server_decoding"].value("advice", "") << "\n";
    if (report.contains("transfer_rates"))
        std::cout << "transfer rates: " << report["transfer_rates"].value("advice", "") << "\n";
    if (report.contains("client_decoding"))
        std::cout << "client decoding: " << report["client_decoding"].value("advice", "") << "\n";
    if (report.contains("stage_copy"))
        std::cout << "stage copy: " << report["stage_copy"].value("advice", "") << "\n";
    if (code != exit_ok)
        std::cout << "no delivery works with this server\n";
    std::cout.flush();
    return code;
}

} // namespace jarvis::host
