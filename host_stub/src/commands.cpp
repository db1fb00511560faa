#include "commands.hpp"

#include "config/config_error.hpp"
#include "plugin_loader.hpp"
#include "progress_line.hpp"
#include "vllm_command.hpp"
#include "vram_planner.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

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

// Loads the plugins and creates a provider of the one the loadout routes to.
vision::Provider open_routed_provider(const HostConfig& config)
{
    const PluginScan scan = scan_plugin_dir(config.plugin_dir);
    for (const auto& failure : scan.errors)
        spdlog::warn("skipped plugin {}: {}", failure.path.string(), failure.message);
    const std::string wanted = config.loadout.plugin_name();
    const LoadedPlugin* chosen = scan.find(wanted);
    if (chosen == nullptr)
        throw ConfigError("the loadout routes to plugin '" + wanted + "', which is not in " + config.plugin_dir.string());
    spdlog::debug("routing to {} {} ({})", chosen->plugin.name(), chosen->plugin.version(), chosen->path.string());
    auto log = [](int32_t level, std::string_view message) { spdlog::log(to_spdlog(level), "{}", message); };
    return vision::Provider(chosen->plugin, config.document.dump(), log, to_jv_level(spdlog::get_level()));
}

json make_request(const CliOptions& cli)
{
    if (!cli.video)
        throw ConfigError(cli.command + " needs --video SRC (a local path or an http(s) URL)");
    if (!cli.prompt)
        throw ConfigError(cli.command + " needs --prompt TEXT");
    return json{{"video", *cli.video}, {"prompt", *cli.prompt}, {"stream", cli.stream}};
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
                                      {"path", p.path.string()},
                                      {"selected", p.plugin.name() == selected}});
        for (const auto& e : scan.errors)
            out["errors"].push_back({{"path", e.path.string()}, {"message", e.message}});
        std::cout << out.dump(2) << std::endl;
    } else {
        for (const auto& p : scan.plugins)
            std::cout << (p.plugin.name() == selected ? "* " : "  ") << p.plugin.name() << " " << p.plugin.version()
                      << " (ABI " << p.plugin.abi() << ") " << p.path.string() << "\n";
        for (const auto& e : scan.errors)
            std::cout << "  failed: " << e.path.string() << ": " << e.message << "\n";
        if (scan.plugins.empty() && scan.errors.empty())
            std::cout << "no plugins in " << config.plugin_dir.string() << "\n";
        std::cout.flush();
    }
    return exit_ok;
}

ExitCode run_plan(const CliOptions& cli, const HostConfig& config)
{
    const json request = make_request(cli);
    vision::Provider provider = open_routed_provider(config);
    ProgressLine progress;
    vision::CallHandlers handlers;
    handlers.is_cancelled = [] { return interrupted.load(); };
    handlers.on_progress = [&](std::string_view stage, double fraction) { progress.show(stage, fraction); };
    const json plan = json::parse(provider.plan(request.dump(), handlers));
    progress.clear();
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
    vision::Provider provider = open_routed_provider(config);
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
    const VllmLaunch launch = make_vllm_launch(config.parsed, config.loadout);
    const std::string format = cli.format.value_or("docker");
    if (format == "docker")
        std::cout << render_docker(launch) << std::endl;
    else if (format == "compose")
        std::cout << render_compose(launch);
    else if (format == "args")
        std::cout << render_args(launch) << std::endl;
    else
        throw ConfigError("--format '" + format + "' is not one of docker, compose, args");
    return exit_ok;
}

ExitCode run_vram(const CliOptions& cli, const HostConfig& config)
{
    const VramPlan p = plan_vram(config.parsed, config.loadout);
    json out = {{"total_gb", p.total_gb},     {"reserve_gb", p.reserve_gb},   {"weights_gb", p.weights_gb},
                {"kv_cache_gb", p.kv_gb},     {"video_tokens", p.video_tokens}, {"encoder_gb", p.encoder_gb},
                {"peak_gb", p.peak_gb},       {"fits", p.fits},               {"gpu_memory_utilization", p.gpu_memory_utilization},
                {"notes", p.notes}};
    if (p.suggested_max_frames > 0)
        out["suggestion"] = {{"max_frames", p.suggested_max_frames}, {"max_pixels", p.suggested_max_pixels}, {"fps", p.suggested_fps}};
    if (cli.json) {
        std::cout << out.dump(2) << std::endl;
        return exit_ok;
    }
    std::cout << fmt::format("{:.1f} GB weights + {:.1f} GB KV cache + {:.1f} GB vision encoder ({} video tokens) + 0.5 GB margin = "
                             "{:.1f} GB; with {:.1f} GB reserved for speech, {} on a {:.1f} GB card\n",
                             p.weights_gb, p.kv_gb, p.encoder_gb, p.video_tokens, p.peak_gb, p.reserve_gb, p.fits ? "fits" : "does NOT fit",
                             p.total_gb)
              << fmt::format("vLLM's --gpu-memory-utilization: {:.2f}\n", p.gpu_memory_utilization);
    if (p.suggested_max_frames > 0)
        std::cout << fmt::format("to fit: #max_frames={}#max_pixels={}#fps={:.2g}\n", p.suggested_max_frames, p.suggested_max_pixels,
                                 p.suggested_fps);
    for (const auto& n : p.notes)
        std::cout << "note: " << n << "\n";
    std::cout.flush();
    return exit_ok;
}

} // namespace jarvis::host
