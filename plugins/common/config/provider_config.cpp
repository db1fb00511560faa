#include "config/provider_config.hpp"

#include "config/config_error.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>

namespace jarvis {
namespace {

using nlohmann::json;

class Reader
{
public:
    explicit Reader(const std::string& origin) : origin_(origin) {}

    // Keys this module does not own are left to their owner (Jarvis hands its whole configuration document): they
    // are collected, for one warning, rather than refused.
    std::vector<std::string> ignored;

    [[noreturn]] void fail(const std::string& path, const std::string& why) const
    {
        throw ConfigError(fmt::format("{}: {}: {}", origin_, path, why));
    }

    void only_keys(const json& object, const std::string& path, const std::set<std::string>& known)
    {
        if (!object.is_object())
            fail(path.empty() ? "top level" : path, "must be a JSON object");
        for (const auto& [key, value] : object.items())
            if (known.count(key) == 0)
                ignored.push_back(path.empty() ? key : path + "." + key);
    }

    void string(const json& object, const std::string& path, const char* key, std::string& out) const
    {
        if (!object.contains(key))
            return;
        const json& v = object.at(key);
        if (!v.is_string())
            fail(join(path, key), "must be a string");
        out = v.get<std::string>();
        // The operating system, libcurl and FFmpeg take C strings: a path would end at the NUL, naming another file.
        if (out.find('\0') != std::string::npos)
            fail(join(path, key), "must not contain a NUL character");
    }

    void seconds(const json& object, const std::string& path, const char* key, double& out) const
    {
        if (!object.contains(key))
            return;
        const json& v = object.at(key);
        if (!v.is_number())
            fail(join(path, key), "must be a number of seconds");
        out = v.get<double>();
        if (!(out > 0) || out > 86400)
            fail(join(path, key), fmt::format("{} is out of range (0, 86400]", out));
    }

    // A size in megabytes, up to a terabyte (beyond it the bytes would not fit an int64). `zero_means` says what 0
    // does where 0 is allowed; without it the size must be positive.
    void megabytes(const json& object, const std::string& path, const char* key, int64_t& out_bytes, const char* zero_means = nullptr) const
    {
        if (!object.contains(key))
            return;
        const json& v = object.at(key);
        const double mb = v.is_number() ? v.get<double>() : -1;
        if (!(zero_means ? mb >= 0 : mb > 0) || mb > 1024 * 1024)
            fail(join(path, key), zero_means ? fmt::format("must be a number of megabytes up to 1048576 (0 {})", zero_means)
                                             : std::string("must be a positive number of megabytes up to 1048576"));
        out_bytes = static_cast<int64_t>(mb * 1024 * 1024);
    }

    static std::string join(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }

private:
    std::string origin_;
};

// The device types FFmpeg can decode video on, on the platforms Jarvis runs on.
bool is_hardware_decode_setting(const std::string& setting)
{
    if (setting == "off" || setting == "auto")
        return true;
    const size_t colon = setting.find(':');
    const std::string type = setting.substr(0, colon);
    const bool device_named = colon == std::string::npos || colon + 1 < setting.size();
    return device_named && (type == "d3d11va" || type == "cuda" || type == "vaapi" || type == "vulkan");
}

} // namespace

ProviderConfig parse_provider_config(const json& doc, const std::string& origin)
{
    Reader r(origin);
    ProviderConfig c;
    r.only_keys(doc, "", {"endpoint", "video_url", "loadout", "plugin_dir", "log_level", "input_data", "http_delivery", "frames", "data_delivery",
                          "delivery_costs", "conversation", "vllm", "gpu", "ports"});
    // Jarvis's own document names vLLM's port (ports.vllm, 8300); our endpoint, when given, says more.
    if (doc.contains("ports") && doc["ports"].is_object() && doc["ports"].contains("vllm")) {
        const json& port = doc["ports"]["vllm"];
        if (!port.is_number_integer() || port.get<int64_t>() < 1 || port.get<int64_t>() > 65535)
            r.fail("ports.vllm", "must be a port number");
        c.endpoint.base_url = fmt::format("http://127.0.0.1:{}/v1", port.get<int64_t>());
    }
    r.string(doc, "", "loadout", c.loadout);
    r.string(doc, "", "plugin_dir", c.plugin_dir);
    r.string(doc, "", "log_level", c.log_level);

    if (doc.contains("endpoint")) {
        const json& e = doc.at("endpoint");
        r.only_keys(e, "endpoint", {"base_url", "timeout_s", "connect_timeout_s", "api_key_env"});
        r.string(e, "endpoint", "base_url", c.endpoint.base_url);
        r.seconds(e, "endpoint", "timeout_s", c.endpoint.timeout_s);
        r.seconds(e, "endpoint", "connect_timeout_s", c.endpoint.connect_timeout_s);
        r.string(e, "endpoint", "api_key_env", c.endpoint.api_key_env);
        const std::string& url = c.endpoint.base_url;
        if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
            r.fail("endpoint.base_url", fmt::format("'{}' must start with http:// or https://", url));
    }
    if (doc.contains("video_url")) {
        const json& v = doc.at("video_url");
        r.only_keys(v, "video_url", {"timeout_s", "cache_mb"});
        r.seconds(v, "video_url", "timeout_s", c.video_url.timeout_s);
        r.megabytes(v, "video_url", "cache_mb", c.video_url.cache_bytes, "turns the cache off");
    }
    if (doc.contains("input_data")) {
        const json& d = doc.at("input_data");
        r.only_keys(d, "input_data", {"host_path", "container_path"});
        r.string(d, "input_data", "host_path", c.input_data.host_path);
        r.string(d, "input_data", "container_path", c.input_data.container_path);
        if (c.input_data.host_path.empty() != c.input_data.container_path.empty())
            r.fail("input_data", "host_path and container_path must be given together");
        if (!c.input_data.container_path.empty() && c.input_data.container_path.front() != '/')
            r.fail("input_data.container_path",
                   fmt::format("'{}' must be an absolute path inside the container", c.input_data.container_path));
    }
    if (doc.contains("http_delivery")) {
        const json& h = doc.at("http_delivery");
        r.only_keys(h, "http_delivery", {"advertise", "bind"});
        r.string(h, "http_delivery", "advertise", c.http_delivery.advertise);
        r.string(h, "http_delivery", "bind", c.http_delivery.bind);
        if (c.http_delivery.bind.empty())
            r.fail("http_delivery.bind", "must not be empty");
    }
    if (doc.contains("frames")) {
        const json& f = doc.at("frames");
        r.only_keys(f, "frames", {"jpeg_quality", "skip_references", "send_while_decoding", "decode_memory_mb", "hardware_decode"});
        for (const auto& [key, flag] : {std::pair{"skip_references", &c.frames.skip_references},
                                        std::pair{"send_while_decoding", &c.frames.send_while_decoding}})
            if (f.contains(key)) {
                if (!f[key].is_boolean())
                    r.fail(std::string("frames.") + key, "must be true or false");
                *flag = f[key].get<bool>();
            }
        r.megabytes(f, "frames", "decode_memory_mb", c.frames.decode_memory_bytes, "decodes on one thread");
        r.string(f, "frames", "hardware_decode", c.frames.hardware_decode);
        if (!is_hardware_decode_setting(c.frames.hardware_decode))
            r.fail("frames.hardware_decode", fmt::format("'{}' is not \"off\", \"auto\" or a device type (d3d11va, cuda, vaapi, vulkan), "
                                                         "optionally with the device after a colon (\"d3d11va:1\")",
                                                         c.frames.hardware_decode));
        if (f.contains("jpeg_quality")) {
            if (!f["jpeg_quality"].is_number_integer())
                r.fail("frames.jpeg_quality", "must be a whole number from 2 (best) to 31");
            // Read whole: an int would wrap 4294967298 to 2.
            const int64_t quality = f["jpeg_quality"].get<int64_t>();
            if (quality < 2 || quality > 31)
                r.fail("frames.jpeg_quality", fmt::format("{} is out of range [2, 31]", quality));
            c.frames.jpeg_quality = static_cast<int>(quality);
        }
    }
    if (doc.contains("delivery_costs")) {
        const json& d = doc.at("delivery_costs");
        r.only_keys(d, "delivery_costs", {"server_decode_ms_per_megapixel", "client_decode_ms_per_megapixel", "upload_mb_per_s", "volume_read_mb_per_s", "stage_copy_mb_per_s"});
        const auto positive = [&](const char* key, std::optional<double>& out) {
            if (!d.contains(key))
                return;
            if (!d[key].is_number() || d[key].get<double>() <= 0)
                r.fail(std::string("delivery_costs.") + key, "must be a positive number");
            out = d[key].get<double>();
        };
        positive("server_decode_ms_per_megapixel", c.delivery_costs.server_decode_ms_per_megapixel);
        positive("client_decode_ms_per_megapixel", c.delivery_costs.client_decode_ms_per_megapixel);
        positive("upload_mb_per_s", c.delivery_costs.upload_mb_per_s);
        positive("volume_read_mb_per_s", c.delivery_costs.volume_read_mb_per_s);
        positive("stage_copy_mb_per_s", c.delivery_costs.stage_copy_mb_per_s);
    }
    if (doc.contains("vllm")) {
        const json& v = doc.at("vllm");
        r.only_keys(v, "vllm", {"image", "container_name", "gpu_memory_utilization", "hf_cache", "video_decoder"});
        r.string(v, "vllm", "image", c.vllm.image);
        r.string(v, "vllm", "container_name", c.vllm.container_name);
        r.string(v, "vllm", "hf_cache", c.vllm.hf_cache);
        r.string(v, "vllm", "video_decoder", c.vllm.video_decoder);
        if (!c.vllm.video_decoder.empty() && c.vllm.video_decoder != "opencv" && c.vllm.video_decoder != "torchcodec")
            r.fail("vllm.video_decoder", fmt::format("'{}' is not a decoder vLLM's CPU video loader has; use opencv or torchcodec",
                                                     c.vllm.video_decoder));
        if (c.vllm.image.find(':') == std::string::npos || c.vllm.image.substr(c.vllm.image.rfind(':')) == ":latest")
            r.fail("vllm.image", fmt::format("'{}' must name a pinned tag (e.g. vllm/vllm-openai:v0.30.0), not latest", c.vllm.image));
        if (v.contains("gpu_memory_utilization")) {
            if (!v["gpu_memory_utilization"].is_number() || v["gpu_memory_utilization"].get<double>() <= 0 ||
                v["gpu_memory_utilization"].get<double>() > 1)
                r.fail("vllm.gpu_memory_utilization", "must be a number in (0, 1]");
            c.vllm.gpu_memory_utilization = v["gpu_memory_utilization"].get<double>();
        }
    }
    if (doc.contains("gpu")) {
        const json& g = doc.at("gpu");
        r.only_keys(g, "gpu", {"total_gb", "reserve_gb", "models"});
        auto gigabytes = [&](const json& object, const std::string& path, const char* key, double& out) {
            if (!object.contains(key))
                return;
            if (!object[key].is_number() || object[key].get<double>() < 0 || object[key].get<double>() > 4096)
                r.fail(path + "." + key, "must be a number of gigabytes");
            out = object[key].get<double>();
        };
        gigabytes(g, "gpu", "total_gb", c.gpu.total_gb);
        gigabytes(g, "gpu", "reserve_gb", c.gpu.reserve_gb);
        if (g.contains("models")) {
            const json& models = g["models"];
            if (!models.is_object())
                r.fail("gpu.models", "must map model names to {\"base_vram_gb\", \"kv_cache_gb_per_10k\"}");
            for (const auto& [name, figures] : models.items()) {
                const std::string path = "gpu.models." + name;
                r.only_keys(figures, path, {"base_vram_gb", "kv_cache_gb_per_10k"});
                ModelMemory m;
                gigabytes(figures, path, "base_vram_gb", m.base_vram_gb);
                gigabytes(figures, path, "kv_cache_gb_per_10k", m.kv_cache_gb_per_10k);
                c.gpu.models.insert(c.gpu.models.begin(), {name, m}); // the configuration's entries first
            }
        }
    }
    if (doc.contains("data_delivery")) {
        const json& d = doc.at("data_delivery");
        r.only_keys(d, "data_delivery", {"max_mb"});
        r.megabytes(d, "data_delivery", "max_mb", c.data_delivery.max_bytes);
    }
    if (doc.contains("conversation")) {
        const json& v = doc.at("conversation");
        r.only_keys(v, "conversation", {"media", "cache_mb"});
        r.string(v, "conversation", "media", c.conversation.media);
        if (c.conversation.media != "resend" && c.conversation.media != "reference")
            r.fail("conversation.media", fmt::format("'{}' is not one of resend, reference", c.conversation.media));
        r.megabytes(v, "conversation", "cache_mb", c.conversation.cache_bytes, "turns the cache off");
    }
    if (!r.ignored.empty()) {
        std::string names;
        for (const auto& k : r.ignored)
            names += (names.empty() ? "" : ", ") + k;
        c.warnings.push_back(fmt::format("{}: keys jarvis-vision does not use are ignored: {}", origin, names));
    }
    return c;
}

ModelMemory GpuConfig::memory_for(const std::string& model) const
{
    std::string folded = model;
    std::transform(folded.begin(), folded.end(), folded.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const auto& [name, memory] : models) {
        std::string key = name;
        std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (folded.find(key) != std::string::npos)
            return memory;
    }
    throw ConfigError(fmt::format("gpu.models has no memory figures for '{}': add an entry with base_vram_gb and "
                                  "kv_cache_gb_per_10k measured for it",
                                  model));
}

ProviderConfig parse_provider_config(const std::string& json_text, const std::string& origin)
{
    json doc;
    try {
        doc = json::parse(json_text);
    } catch (const json::exception& e) { // parse_error, and out_of_range for a number too large to hold
        throw ConfigError(fmt::format("{}: not valid JSON: {}", origin, e.what()));
    }
    return parse_provider_config(doc, origin);
}

} // namespace jarvis
