#include "tools/probe.hpp"

#include "http/server_models.hpp"
#include "media/test_pattern.hpp"
#include "platform/native_path.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>

namespace jarvis {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A name no other probe, in this process or another, is writing at the same time.
std::string unique_probe_name()
{
    static std::atomic<unsigned> counter{0};
    return "jarvis-probe-" + std::to_string(std::random_device{}()) + "-" + std::to_string(counter++) + ".mp4";
}

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

json run_probe(const ProviderConfig& config, const Loadout& loadout, const ProbeAsk& ask, const plugin::Call& call)
{
    json report = {{"endpoint", config.endpoint.base_url}, {"model", loadout.model}};
    call.progress("models", -1);
    const auto models = fetch_model_ids(config.endpoint); // unreachable: JV_E_UNREACHABLE to the host
    report["models"] = models;
    report["model_served"] = std::find(models.begin(), models.end(), loadout.model) != models.end();

    // The probe video lives inside the shared volume when there is one, so that the file delivery needs no staging.
    const fs::path dir = config.input_data.configured() ? native_path(config.input_data.host_path) : fs::temp_directory_path();
    ProbeVideo video{dir / unique_probe_name()};
    write_test_pattern_video(utf8_path(video.path), 3);

    std::vector<std::string> deliveries;
    if (config.input_data.configured())
        deliveries.push_back("file");
    if (!config.http_delivery.advertise.empty())
        deliveries.push_back("http");
    deliveries.insert(deliveries.end(), {"data", "frames"});

    std::string base = loadout.text;
    if (!loadout.native_video)
        base += "#nativevideo";
    json results = json::array();
    bool any_works = false;
    for (size_t i = 0; i < deliveries.size(); ++i) {
        const std::string& delivery = deliveries[i];
        call.throw_if_cancelled();
        call.progress(("delivery " + delivery).c_str(), double(i) / double(deliveries.size()));
        const json request = {{"video", utf8_path(video.path)},
                              {"prompt", "What moves in this clip?"},
                              {"loadout", base + "#delivery=" + delivery + "#fallback=off#max_tokens=64"}};
        json entry = {{"delivery", delivery}};
        const auto start = std::chrono::steady_clock::now();
        try {
            const json result = json::parse(ask(request.dump()));
            entry["ok"] = true;
            entry["prompt_tokens"] = result["usage"].value("prompt_tokens", 0);
            any_works = true;
        } catch (const plugin::Error& e) {
            if (e.code() == JV_E_CANCELLED)
                throw;
            entry["ok"] = false;
            entry["error"] = e.what();
            if (e.http_status() != 0)
                entry["http_status"] = e.http_status();
            if (const std::string advice = probe_advice(delivery, e.what(), config); !advice.empty())
                entry["advice"] = advice;
        }
        entry["latency_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        results.push_back(std::move(entry));
    }
    report["deliveries"] = results;
    report["ok"] = any_works;
    return report;
}

} // namespace jarvis
