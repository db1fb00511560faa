#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace jarvis {

struct EndpointConfig
{
    std::string base_url = "http://127.0.0.1:8000/v1";
    double timeout_s = 300;
    double connect_timeout_s = 10;
    std::string api_key_env; // the name of the environment variable holding the key; the key is never stored here
};

// The volume shared with vLLM's container: host_path on this machine is container_path inside the container.
struct InputDataConfig
{
    std::string host_path;
    std::string container_path;
    bool configured() const { return !host_path.empty() && !container_path.empty(); }
};

struct HttpDeliveryConfig
{
    std::string advertise;          // host name the server uses to reach our media server
    std::string bind = "127.0.0.1"; // address our media server listens on
};

// How client-side frames are encoded (frame_slicer, and native_video's frames delivery).
struct FramesConfig
{
    int jpeg_quality = 5; // FFmpeg's qscale: 2 (best, largest) .. 31; 5 is about Pillow's default quality 75
};

// Inline (data:) delivery of whole videos.
struct DataDeliveryConfig
{
    int64_t max_bytes = 64LL * 1024 * 1024; // above it the request is refused with a suggestion of another delivery
};

// How vLLM's container is launched (jarvis-host vllm-command).
struct VllmLaunchConfig
{
    std::string image = "vllm/vllm-openai:v0.30.0"; // pinned: never "latest"
    std::string container_name;                     // empty: derived from the model
    double gpu_memory_utilization = 0.85;
    std::string hf_cache;                           // host folder of the Hugging Face cache, mounted if set
};

// The configuration document a host hands to a provider (CONTRACT.md, jarvis-host config). The same schema is
// the config file's, so one parser serves both.
struct ProviderConfig
{
    EndpointConfig endpoint;
    std::string loadout; // empty: default_loadout
    std::string plugin_dir;
    std::string log_level;
    InputDataConfig input_data;
    HttpDeliveryConfig http_delivery;
    FramesConfig frames;
    DataDeliveryConfig data_delivery;
    VllmLaunchConfig vllm;
};

// Throws ConfigError naming the key (as a JSON path, e.g. endpoint.timeout_s) and the problem. `origin` (a file
// name, or "configuration") prefixes the message.
ProviderConfig parse_provider_config(const nlohmann::json& document, const std::string& origin);
ProviderConfig parse_provider_config(const std::string& json_text, const std::string& origin);

} // namespace jarvis
