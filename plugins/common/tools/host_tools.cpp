#include "tools/host_tools.hpp"

#include "core/document_text.hpp"
#include "config/config_error.hpp"
#include "tools/vllm_launch.hpp"
#include "tools/vram_planner.hpp"

#include <nlohmann/json.hpp>

namespace jarvis {
namespace {

using nlohmann::json;

json vllm_command(const ProviderConfig& config, const Loadout& loadout, const std::string& format)
{
    const VllmLaunch launch = make_vllm_launch(config, loadout);
    std::string text;
    if (format == "docker")
        text = render_docker(launch);
    else if (format == "compose")
        text = render_compose(launch);
    else if (format == "args")
        text = render_args(launch);
    else
        throw ConfigError("format '" + format + "' is not one of docker, compose, args");
    return {{"format", format},
            {"command", text},
            {"image", launch.image},
            {"container_name", launch.container_name},
            {"host_port", launch.host_port},
            {"mounts", launch.mounts},
            {"args", launch.vllm_args}};
}

json vram(const ProviderConfig& config, const Loadout& loadout)
{
    const VramPlan p = plan_vram(config, loadout);
    json out = {{"total_gb", p.total_gb},     {"reserve_gb", p.reserve_gb},     {"weights_gb", p.weights_gb},
                {"kv_cache_gb", p.kv_gb},     {"video_tokens", p.video_tokens}, {"encoder_gb", p.encoder_gb},
                {"hardware_decode_gb", p.hardware_decode_gb},
                {"peak_gb", p.peak_gb},       {"fits", p.fits},                 {"gpu_memory_utilization", p.gpu_memory_utilization},
                {"notes", p.notes}};
    if (p.suggested_max_frames > 0)
        out["suggestion"] = {{"max_frames", p.suggested_max_frames}, {"max_pixels", p.suggested_max_pixels}, {"fps", p.suggested_fps}};
    return out;
}

json parse_tool_request(std::string_view request_json)
{
    json doc;
    try {
        doc = json::parse(request_json);
    } catch (const json::exception& e) { // parse_error, and out_of_range for a number too large to hold
        throw ConfigError(std::string("tool request: not valid JSON: ") + e.what());
    }
    if (!doc.is_object() || !doc.contains("tool") || !doc["tool"].is_string())
        throw ConfigError("tool request: must be an object naming the tool, {\"tool\": \"vllm_command\" | \"vram\" | \"probe\"}");
    for (const char* key : {"loadout", "format", "video"})
        if (doc.contains(key) && (!doc[key].is_string() || doc[key].get_ref<const std::string&>().find('\0') != std::string::npos))
            throw ConfigError(std::string("tool request: ") + key + " must be a string without NUL characters");
    return doc;
}

} // namespace

std::string run_host_tool(std::string_view request_json, const ProviderConfig& config, const ProbeAsk& ask, const plugin::Call& call)
{
    const json request = parse_tool_request(request_json);
    const std::string tool = request["tool"].get<std::string>();
    const std::string loadout_text = request.value("loadout", config.loadout.empty() ? std::string(default_loadout) : config.loadout);
    const Loadout loadout = parse_loadout(loadout_text);

    json result;
    if (tool == "vllm_command")
        result = vllm_command(config, loadout, request.value("format", "docker"));
    else if (tool == "vram")
        result = vram(config, loadout);
    else if (tool == "probe") {
        if (!ask)
            throw ConfigError("probe sends video, which only the native_video plugin does");
        result = run_probe(config, loadout, request.value("video", std::string()), ask, call);
    } else
        throw ConfigError("unknown tool '" + tool + "' (known: vllm_command, vram, probe)");

    json warnings(config.warnings);
    for (const auto& w : loadout.warnings)
        warnings.push_back(w);
    result["warnings"] = std::move(warnings);
    return document_text(result);
}

} // namespace jarvis
