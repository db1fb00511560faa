#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jarvis {

enum class SeekMode { exact, keyframe };
enum class Delivery { automatic, file, http, data, frames };

// A parsed loadout string, ENGINE://MODEL#flag#key=value... (CONTRACT.md). Options that the string does not set
// are empty; each consumer applies its own default.
struct Loadout
{
    std::string text;   // as given
    std::string engine; // lower-case: vllm, sglang or openai
    std::string model;  // the served model name, case kept
    bool native_video = false;

    std::optional<double> fps;
    std::optional<int64_t> max_frames;
    std::optional<double> start_s;
    std::optional<double> end_s;
    std::optional<int64_t> max_pixels;
    std::optional<int64_t> ctx;
    std::optional<int64_t> max_tokens;
    std::optional<SeekMode> seek;
    std::optional<Delivery> delivery;
    bool fallback = true; // native_video: retry a refused delivery with frames, or images (fallback=off: report it)

    // The plugin this loadout routes to.
    std::string plugin_name() const { return native_video ? "native_video" : "frame_slicer"; }
};

// Throws ConfigError naming the offending flag, key or value.
Loadout parse_loadout(std::string_view text);

std::string_view to_string(SeekMode mode);
std::string_view to_string(Delivery delivery);

// The loadout used when the configuration names none.
inline constexpr std::string_view default_loadout = "vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ";

} // namespace jarvis
