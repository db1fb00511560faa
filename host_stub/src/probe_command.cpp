#include "probe_command.hpp"

#include "config/config_error.hpp"
#include "http/server_models.hpp"
#include "media/test_pattern.hpp"
#include "plugin_loader.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <unistd.h>

namespace jarvis::host {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Removes the probe's own video, wherever it was written, when the probe ends.
struct ProbeVideo
{
    fs::path path;
    ~ProbeVideo()
    {
        std::error_code ec;
        fs::remove(path, ec);
    }
};

} // namespace

std::string probe_advice(const std::string& delivery, const std::string& message, const ProviderConfig& config)
{
    auto has = [&](const char* text) { return message.find(text) != std::string::npos; };
    if (has("Cannot load local files"))
        return "start vLLM with --allowed-local-media-path " + config.input_data.container_path + " and the volume mounted there "
               "(see jarvis-host vllm-command)";
    if (has("must be a subpath"))
        return "input_data.container_path must be the directory vLLM's --allowed-local-media-path names";
    if (has("No such file"))
        return "the volume is not mounted at " + config.input_data.container_path + " inside vLLM's container";
    if (has("Failed to fetch") || has("Cannot fetch"))
        return "the server cannot fetch from this machine: set http_delivery.advertise to a name it resolves (host.docker.internal "
               "for Docker Desktop) and http_delivery.bind to an address it can reach";
    if (has("base64") || has("data URL"))
        return "the server refuses data URLs: use delivery=file, http or frames";
    if (has("video(s) may be provided"))
        return "start vLLM with --limit-mm-per-prompt.video 1";
    if (has("maximum context length") || has("decoder prompt"))
        return "raise --max-model-len (and #ctx) or lower fps";
    if (has("does not exist") && delivery.empty())
        return "the loadout's model is not the one the server serves";
    return {};
}

ExitCode run_probe(const CliOptions& cli, const HostConfig& config)
{
    json report = {{"endpoint", config.parsed.endpoint.base_url}, {"model", config.loadout.model}};
    const auto models = fetch_model_ids(config.parsed.endpoint); // unreachable: exit 4 through the caller
    report["models"] = models;
    report["model_served"] = std::find(models.begin(), models.end(), config.loadout.model) != models.end();

    const PluginScan scan = scan_plugin_dir(config.plugin_dir);
    const LoadedPlugin* native = scan.find("native_video");
    if (native == nullptr)
        throw ConfigError("probe needs the native_video plugin, which is not in " + config.plugin_dir.string());

    // The probe video lives inside the shared volume when there is one, so that the file delivery needs no staging.
    const fs::path dir = config.parsed.input_data.configured() ? fs::path(config.parsed.input_data.host_path) : fs::temp_directory_path();
    ProbeVideo video{dir / ("jarvis-probe-" + std::to_string(::getpid()) + ".mp4")};
    write_test_pattern_video(video.path.string(), 3);

    std::vector<std::string> deliveries;
    if (config.parsed.input_data.configured())
        deliveries.push_back("file");
    if (!config.parsed.http_delivery.advertise.empty())
        deliveries.push_back("http");
    deliveries.insert(deliveries.end(), {"data", "frames"});

    vision::Provider provider(native->plugin, config.document.dump());
    std::string base = config.loadout.text;
    if (!config.loadout.native_video)
        base += "#nativevideo";
    json results = json::array();
    for (const auto& delivery : deliveries) {
        const json request = {{"video", video.path.string()},
                              {"prompt", "What moves in this clip?"},
                              {"loadout", base + "#delivery=" + delivery + "#fallback=off#max_tokens=64"}};
        json entry = {{"delivery", delivery}};
        const auto start = std::chrono::steady_clock::now();
        try {
            const json result = json::parse(provider.ask(request.dump()));
            entry["ok"] = true;
            entry["prompt_tokens"] = result["usage"].value("prompt_tokens", 0);
        } catch (const vision::Error& e) {
            entry["ok"] = false;
            entry["error"] = e.what();
            if (e.http_status() != 0)
                entry["http_status"] = e.http_status();
            if (const std::string advice = probe_advice(delivery, e.what(), config.parsed); !advice.empty())
                entry["advice"] = advice;
        }
        entry["latency_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        results.push_back(std::move(entry));
    }
    report["deliveries"] = results;

    if (cli.json) {
        std::cout << report.dump(2) << std::endl;
        return exit_ok;
    }
    std::cout << "endpoint: " << config.parsed.endpoint.base_url << " (serves " << models.size() << " model"
              << (models.size() == 1 ? "" : "s") << (report["model_served"].get<bool>() ? ", including " : ", not ") << config.loadout.model
              << ")\n";
    for (const auto& r : results) {
        std::cout << "  " << r["delivery"].get<std::string>() << ": ";
        if (r["ok"].get<bool>())
            std::cout << "works, " << r["prompt_tokens"].get<int>() << " prompt tokens, " << r["latency_s"].get<double>() << " s\n";
        else
            std::cout << "refused: " << r["error"].get<std::string>() << (r.contains("advice") ? "\n      -> " + r["advice"].get<std::string>() : "")
                      << "\n";
    }
    std::cout.flush();
    return exit_ok;
}

} // namespace jarvis::host
