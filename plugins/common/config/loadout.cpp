#include "config/loadout.hpp"

#include "config/config_error.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fmt/format.h>

namespace jarvis {
namespace {

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

[[noreturn]] void fail(std::string_view loadout, const std::string& why)
{
    throw ConfigError(fmt::format("loadout '{}': {}", loadout, why));
}

double parse_number(std::string_view loadout, std::string_view key, std::string_view value, double min, double max)
{
    double v = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(v))
        fail(loadout, fmt::format("{}={} is not a number", key, value));
    if (v < min || v > max)
        fail(loadout, fmt::format("{}={} is out of range [{}, {}]", key, value, min, max));
    return v;
}

int64_t parse_integer(std::string_view loadout, std::string_view key, std::string_view value, int64_t min, int64_t max)
{
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size())
        fail(loadout, fmt::format("{}={} is not a whole number", key, value));
    if (v < min || v > max)
        fail(loadout, fmt::format("{}={} is out of range [{}, {}]", key, value, min, max));
    return v;
}

template <class Enum, size_t N>
Enum parse_choice(std::string_view loadout, std::string_view key, std::string_view value,
                  const std::array<std::pair<std::string_view, Enum>, N>& choices)
{
    const std::string v = lower(value);
    std::string names;
    for (const auto& [name, e] : choices) {
        if (v == name)
            return e;
        names += names.empty() ? "" : "|";
        names += name;
    }
    fail(loadout, fmt::format("{}={} is not one of {}", key, value, names));
}

constexpr std::array<std::pair<std::string_view, SeekMode>, 2> seek_modes{{
    {"exact", SeekMode::exact},
    {"keyframe", SeekMode::keyframe},
}};
constexpr std::array<std::pair<std::string_view, Delivery>, 5> deliveries{{
    {"auto", Delivery::automatic},
    {"file", Delivery::file},
    {"http", Delivery::http},
    {"data", Delivery::data},
    {"frames", Delivery::frames},
}};

constexpr std::array<std::pair<std::string_view, bool>, 2> on_off{{{"on", true}, {"off", false}}};

constexpr std::array<std::string_view, 3> engines{"vllm", "sglang", "openai"};
constexpr double max_seconds = 1e7; // about 116 days: far beyond any real video

} // namespace

Loadout parse_loadout(std::string_view text)
{
    Loadout out;
    out.text = std::string(text);

    const size_t first_hash = text.find('#');
    const std::string_view head = text.substr(0, first_hash);
    const size_t scheme_end = head.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0)
        fail(text, "expected ENGINE://MODEL, for example vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ");
    out.engine = lower(head.substr(0, scheme_end));
    out.model = std::string(head.substr(scheme_end + 3));
    if (std::find(engines.begin(), engines.end(), out.engine) == engines.end())
        fail(text, fmt::format("unknown engine '{}' (known: vllm, sglang, openai)", out.engine));
    if (out.model.empty())
        fail(text, "the model name is empty");

    std::string seen;
    size_t pos = first_hash;
    while (pos != std::string_view::npos) {
        const size_t next = text.find('#', pos + 1);
        const std::string_view option = text.substr(pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1);
        pos = next;
        if (option.empty())
            fail(text, "empty option between '#' signs");

        const size_t eq = option.find('=');
        const std::string key = lower(option.substr(0, eq));
        if (seen.find("#" + key + "#") != std::string::npos)
            fail(text, fmt::format("'{}' is given twice", key));
        seen += "#" + key + "#";

        if (eq == std::string_view::npos) {
            if (key == "nativevideo")
                out.native_video = true;
            else
                fail(text, fmt::format("unknown flag '#{}' (known flag: #nativevideo)", option));
            continue;
        }
        const std::string_view value = option.substr(eq + 1);
        if (value.empty())
            fail(text, fmt::format("'{}' has no value", key));

        if (key == "fps")
            out.fps = parse_number(text, key, value, 0.01, 60);
        else if (key == "max_frames")
            out.max_frames = parse_integer(text, key, value, 2, 768);
        else if (key == "start")
            out.start_s = parse_number(text, key, value, 0, max_seconds);
        else if (key == "end")
            out.end_s = parse_number(text, key, value, 0, max_seconds);
        else if (key == "max_pixels")
            out.max_pixels = parse_integer(text, key, value, 32 * 32, 16384LL * 32 * 32);
        else if (key == "ctx")
            out.ctx = parse_integer(text, key, value, 256, 1 << 24);
        else if (key == "max_tokens")
            out.max_tokens = parse_integer(text, key, value, 1, 1 << 24);
        else if (key == "seek")
            out.seek = parse_choice(text, key, value, seek_modes);
        else if (key == "delivery")
            out.delivery = parse_choice(text, key, value, deliveries);
        else if (key == "fallback")
            out.fallback = parse_choice(text, key, value, on_off);
        else
            fail(text, fmt::format("unknown key '{}' (known keys: fps, max_frames, start, end, max_pixels, ctx, "
                                   "max_tokens, seek, delivery, fallback)",
                                   key));
    }

    if (out.start_s && out.end_s && *out.end_s <= *out.start_s)
        fail(text, fmt::format("end={} must be after start={}", *out.end_s, *out.start_s));
    if (out.delivery && !out.native_video)
        fail(text, "delivery= applies only with #nativevideo (frame_slicer always sends images)");
    if (!out.fallback && !out.native_video)
        fail(text, "fallback= applies only with #nativevideo");
    return out;
}

std::string_view to_string(SeekMode mode)
{
    for (const auto& [name, m] : seek_modes)
        if (m == mode)
            return name;
    return "exact";
}

std::string_view to_string(Delivery delivery)
{
    for (const auto& [name, d] : deliveries)
        if (d == delivery)
            return name;
    return "auto";
}

} // namespace jarvis
