#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jarvis {

enum class SeekMode { exact, keyframe };
enum class Delivery { automatic, file, http, data, frames };

// A parsed loadout string, ENGINE://MODEL#flag#key=value... (docs/contract.md). Options that the string does not set
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
    // Jarvis's own options, with their Jarvis meaning: #stream asks for a streamed answer (the request's "stream"
    // still decides when it says so); vid_lim/img_lim are vLLM's per-prompt media limits (vllm-command).
    bool stream = false;
    std::optional<int64_t> video_limit;
    std::optional<int64_t> image_limit;

    // Unknown flags and keys, options given twice, options that do not apply to the routed plugin: accepted,
    // ignored, and said here (results carry them as warnings). Values that are wrong are errors.
    std::vector<std::string> warnings;

    // The plugin this loadout routes to.
    std::string plugin_name() const { return native_video ? "native_video" : "frame_slicer"; }
};

// Throws ConfigError naming the offending value, or a string that is no loadout at all (no ENGINE://MODEL).
Loadout parse_loadout(std::string_view text);

std::string_view to_string(SeekMode mode);
std::string_view to_string(Delivery delivery);

// The loadout used when the configuration names none.
inline constexpr std::string_view default_loadout = "vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ";

} // namespace jarvis
