#include "tools/vllm_launch.hpp"

#include "config/config_error.hpp"
#include "tools/vram_planner.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace jarvis {
namespace {

// Frames frame_slicer may send as images; the server must accept that many per prompt.
constexpr int64_t default_image_limit = 64;

int port_of(const std::string& base_url)
{
    const size_t scheme = base_url.find("://");
    std::string host_port = base_url.substr(scheme == std::string::npos ? 0 : scheme + 3);
    host_port = host_port.substr(0, host_port.find('/'));
    const size_t colon = host_port.rfind(':');
    // No port, or the last ':' is inside an IPv6 literal: the scheme's default.
    if (colon == std::string::npos || (host_port.front() == '[' && host_port.find(']') > colon))
        return base_url.rfind("https", 0) == 0 ? 443 : 80;
    return std::stoi(host_port.substr(colon + 1));
}

// Double quotes keep a value literal in bash and in PowerShell as long as it has none of these.
void check_shell_safe(const std::string& what, const std::string& value)
{
    for (char c : {'"', '$', '`'})
        if (value.find(c) != std::string::npos)
            throw ConfigError(fmt::format("{} '{}' contains {}, which no shell keeps literal; use a path without it", what, value, c));
}

std::string quoted_if_needed(const std::string& value)
{
    const bool plain = std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isalnum(c) || std::strchr("-_./:=,+@", c); });
    return plain ? value : "\"" + value + "\"";
}

} // namespace

VllmLaunch make_vllm_launch(const ProviderConfig& config, const Loadout& loadout)
{
    VllmLaunch l;
    l.image = config.vllm.image;
    l.container_name = config.vllm.container_name;
    if (l.container_name.empty() || !std::isalnum(static_cast<unsigned char>(l.container_name.front())) ||
        !std::all_of(l.container_name.begin(), l.container_name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '.' || c == '-'; }))
        throw ConfigError(fmt::format("vllm.container_name '{}' is not a legal Docker name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)", l.container_name));
    l.host_port = port_of(config.endpoint.base_url);

    if (config.input_data.configured()) {
        check_shell_safe("input_data.host_path", config.input_data.host_path);
        l.mounts.push_back(fmt::format("type=bind,source={},target={},readonly", config.input_data.host_path, config.input_data.container_path));
    }
    if (!config.vllm.hf_cache.empty()) {
        check_shell_safe("vllm.hf_cache", config.vllm.hf_cache);
        l.mounts.push_back(fmt::format("type=bind,source={},target=/root/.cache/huggingface", config.vllm.hf_cache));
    }

    auto& a = l.vllm_args;
    const double utilization = config.vllm.gpu_memory_utilization ? *config.vllm.gpu_memory_utilization
                                                                  : plan_vram(config, loadout).gpu_memory_utilization;
    a = {"--model", loadout.model, "--served-model-name", loadout.model, "--gpu-memory-utilization", fmt::format("{:.2f}", utilization)};
    if (loadout.ctx)
        a.insert(a.end(), {"--max-model-len", std::to_string(*loadout.ctx)});
    if (config.input_data.configured())
        a.insert(a.end(), {"--allowed-local-media-path", config.input_data.container_path});
    // Dot notation instead of JSON: it needs no quotes, so it pastes unchanged into bash and PowerShell.
    // Jarvis's #vid_lim and #img_lim set the per-prompt limits, as its own launcher does.
    a.insert(a.end(), {"--limit-mm-per-prompt.video", std::to_string(loadout.video_limit.value_or(1)), "--limit-mm-per-prompt.image",
                       std::to_string(loadout.image_limit.value_or(std::max<int64_t>(default_image_limit, loadout.max_frames.value_or(0))))});
    // Client frames (frame_slicer's images, native_video's frames delivery) must not be cut to vLLM's default 32.
    a.insert(a.end(), {"--media-io-kwargs.video.num_frames", "-1"});
    if (!config.vllm.video_decoder.empty())
        a.insert(a.end(), {"--media-io-kwargs.video.backend", config.vllm.video_decoder});
    return l;
}

std::string render_docker(const VllmLaunch& l)
{
    std::string out = fmt::format("docker run --gpus all --rm --name {} -p {}:8000", l.container_name, l.host_port);
    for (const auto& m : l.mounts)
        out += " --mount " + quoted_if_needed(m);
    out += " " + l.image;
    for (const auto& arg : l.vllm_args)
        out += " " + quoted_if_needed(arg);
    return out;
}

std::string render_compose(const VllmLaunch& l)
{
    std::string out = "services:\n  vllm:\n";
    out += fmt::format("    image: {}\n    container_name: {}\n    ports:\n      - \"{}:8000\"\n", l.image, l.container_name, l.host_port);
    if (!l.mounts.empty()) {
        out += "    volumes:\n";
        for (const auto& m : l.mounts) {
            // type=bind,source=S,target=T[,readonly]
            const size_t s = m.find("source=") + 7;
            const size_t t = m.find(",target=");
            const std::string target = m.substr(t + 8, m.find(',', t + 8) == std::string::npos ? std::string::npos : m.find(',', t + 8) - t - 8);
            out += fmt::format("      - type: bind\n        source: {}\n        target: {}\n{}", nlohmann::json(m.substr(s, t - s)).dump(),
                               target, m.find(",readonly") != std::string::npos ? "        read_only: true\n" : "");
        }
    }
    out += "    command:\n";
    for (const auto& arg : l.vllm_args)
        out += "      - " + nlohmann::json(arg).dump() + "\n";
    out += "    deploy:\n      resources:\n        reservations:\n          devices:\n            - driver: nvidia\n"
           "              count: all\n              capabilities: [gpu]\n";
    return out;
}

std::string render_args(const VllmLaunch& l) { return nlohmann::json(l.vllm_args).dump(); }

} // namespace jarvis
