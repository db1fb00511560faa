#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace jarvis {

struct EndpointConfig
{
    std::string base_url = "http://127.0.0.1:8300/v1"; // Jarvis runs vLLM on port 8300
    double timeout_s = 300;
    double connect_timeout_s = 10;
    std::string api_key_env; // the name of the environment variable holding the key; the key is never stored here
};

// http(s) videos, read from their own server (not the model's endpoint).
struct VideoUrlConfig
{
    // A read that stalls this long is tried once more on a new connection, then fails the request. Apart from the
    // endpoint's timeout, which also bounds a long answer: at that one a stalled video server held a request ~20 min.
    double timeout_s = 30;
    // What a request keeps of the bytes it read from the video's server, so that the decoding does not fetch again the
    // keyframe intervals the index made by seeking read; 0 turns it off.
    int64_t cache_bytes = 32LL * 1024 * 1024;
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

// What frame decoding may take at once (frames.decode_memory_mb), shared by a plugin's concurrent requests.
inline constexpr int64_t default_decode_memory_bytes = 512LL * 1024 * 1024;

// How client-side frames are encoded (frame_slicer, and native_video's frames delivery).
struct FramesConfig
{
    int jpeg_quality = 5; // FFmpeg's qscale: 2 (best, largest) .. 31; 5 is about Pillow's default quality 75
    // H.264: also skip reference pictures no chosen frame depends on (where the FFmpeg running is the one the
    // replay was checked against); false decodes every reference picture, as FFmpeg alone would.
    bool skip_references = true;
    // frame_slicer's images and native_video's frames delivery: the request goes out while its frames are decoded
    // (a chunked body); false sends it once whole.
    bool send_while_decoding = true;
    // What decoding may take at once, shared by concurrent requests: as many decoders (one per core at most) and frame
    // threads as fit. 0: one decoder on one thread.
    int64_t decode_memory_bytes = default_decode_memory_bytes;
    // Decoding on the GPU's video engine (media/hardware_decode.hpp): "off", "auto" (Direct3D 11 on Windows, NVDEC
    // elsewhere), or one device type, optionally with the device: "d3d11va", "d3d11va:1" (the second adapter), "cuda",
    // "cuda:1", "vaapi", "vaapi:/dev/dri/renderD129", "vulkan". Off until it has been measured on a GPU.
    std::string hardware_decode = "off";
};

// FFmpeg's H.264 decoding, per megapixel of a frame, as measured on a 2-core machine (10 minutes of 1080p30 x264
// veryfast): what delivery=auto assumes of this machine and, unless told otherwise, of the server.
inline constexpr double reference_decode_ms_per_megapixel = 2.2;
// Our exact decode for the frames delivery on that machine, per picture decoded with a keyframe interval per core: the
// decoders at once and the references left out made it faster than the loader's frame threads.
inline constexpr double default_client_decode_ms_per_megapixel = reference_decode_ms_per_megapixel * 0.65;
// Assumed until probe measures them: this machine's upload to the server, and the server's reading of the volume.
inline constexpr double default_upload_mb_per_s = 100;
inline constexpr double default_volume_read_mb_per_s = 400;
// Copying a video from one drive to another, reading one and writing the other: a hard disk, where long recordings
// are often kept, gives 100-200 MB/s, SSDs several times that. Assumed: probe --video measures it on the user's drive.
inline constexpr double default_stage_copy_mb_per_s = 150;

// What auto's cost model assumes about the server and the link to it (native_video's delivery_cost.hpp); each
// overrides the default measured on a 2-core machine.
struct DeliveryCostConfig
{
    std::optional<double> server_decode_ms_per_megapixel; // the server's video loader, per decoded frame
    std::optional<double> client_decode_ms_per_megapixel; // ours on the GPU, per decoded picture, as probe measures it
    std::optional<double> upload_mb_per_s;                // this machine to the server
    std::optional<double> volume_read_mb_per_s;           // the server reading the shared volume
    std::optional<double> stage_copy_mb_per_s;           // copying a video from another volume into the shared one
};

// Inline (data:) delivery of whole videos.
struct DataDeliveryConfig
{
    int64_t max_bytes = 64LL * 1024 * 1024; // above it the request is refused with a suggestion of another delivery
};

// Follow-up questions about the same video (a request carrying a previous result's "conversation").
struct ConversationConfig
{
    // resend: every turn carries the media again, with its uuid (the server's caches key on it);
    // reference: follow-ups carry only the uuid and rely on the server's cache, resending once on a miss.
    std::string media = "resend";
    int64_t cache_bytes = 256LL * 1024 * 1024; // the client's cache of encoded media parts, least recently used out
};

// How vLLM's container is launched (jarvis-host vllm-command).
struct VllmLaunchConfig
{
    std::string image = "vllm/vllm-openai:v0.30.0"; // pinned: never "latest"
    std::string container_name = "vllm-server";     // the name Jarvis starts, stops and reads the logs of
    std::optional<double> gpu_memory_utilization;   // empty: the VRAM planner's
    std::string hf_cache;                           // host folder of the Hugging Face cache, mounted if set
    // The decoder vLLM's video loader uses (--media-io-kwargs video.backend): empty for vLLM's default (OpenCV, which
    // decodes every frame up to the last sampled one); "torchcodec" seeks to each sampled frame's keyframe. Opt-in:
    // vLLM releases before the backend option reject it.
    std::string video_decoder;
};

// Measured memory of a model under vLLM: weights (with CUDA context) and KV cache per 10k tokens of context.
struct ModelMemory
{
    double base_vram_gb = 0;
    double kv_cache_gb_per_10k = 0;
};

// The card vLLM shares with speech-to-text and text-to-speech (jarvis-host vram, vllm-command).
struct GpuConfig
{
    double total_gb = 24;  // an RTX 4090; 32 for a 5090
    double reserve_gb = 4; // for speech-to-text and text-to-speech beside vLLM
    // Model name substring (case-insensitive) -> measured figures. The default entry is the Jarvis host's
    // calibration of the QuantTrio AWQ model on an RTX 5090.
    std::vector<std::pair<std::string, ModelMemory>> models = {{"qwen3-vl-30b-a3b-instruct-awq", {17.96, 0.915}}};

    // Throws ConfigError when no entry matches.
    ModelMemory memory_for(const std::string& model) const;
};

// The configuration document a host hands to a provider (docs/contract.md, "The configuration document"). The same schema is
// the config file's, so one parser serves both.
struct ProviderConfig
{
    EndpointConfig endpoint;
    VideoUrlConfig video_url;
    std::string loadout; // empty: default_loadout
    std::string plugin_dir;
    std::string log_level;
    InputDataConfig input_data;
    HttpDeliveryConfig http_delivery;
    FramesConfig frames;
    DataDeliveryConfig data_delivery;
    DeliveryCostConfig delivery_costs;
    ConversationConfig conversation;
    VllmLaunchConfig vllm;
    GpuConfig gpu;

    // Keys the document has that this module does not use (Jarvis's own): ignored, and said once here.
    std::vector<std::string> warnings;
};

// Throws ConfigError naming the key (as a JSON path, e.g. endpoint.timeout_s) and the problem with a key it owns;
// keys it does not own become one warning. `origin` (a file
// name, or "configuration") prefixes the message.
ProviderConfig parse_provider_config(const nlohmann::json& document, const std::string& origin);
ProviderConfig parse_provider_config(const std::string& json_text, const std::string& origin);

} // namespace jarvis
