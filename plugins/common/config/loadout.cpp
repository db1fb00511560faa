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

bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// Jarvis's YAML and hand-typed command lines bring spaces and line ends around the parts ("vllm://M #nativevideo");
// kept, they would become part of the model name (the server answers 404) or an unknown flag (the wrong plugin).
std::string_view trimmed(std::string_view s)
{
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
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

constexpr std::array<std::string_view, 2> known_flags{"nativevideo", "stream"};
constexpr std::array<std::string_view, 13> known_keys{"fps",      "max_frames", "start",    "end",     "max_pixels",
                                                      "ctx",      "max_tokens", "seek",     "delivery", "fallback",
                                                      "vid_lim",  "img_lim",    "num_ctx"};

// Levenshtein distance, for "did you mean" on misspelled options.
size_t distance(std::string_view a, std::string_view b)
{
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

template <size_t N>
std::string suggestion(std::string_view name, const std::array<std::string_view, N>& known, std::string_view prefix)
{
    for (const auto k : known)
        if (distance(name, k) <= 2)
            return fmt::format(" (did you mean {}{}?)", prefix, k);
    return {};
}

// Jarvis writes booleans as bare flags or as flag=true|false (utils/config.py types them).
std::optional<bool> boolean_value(std::string_view value)
{
    const std::string v = lower(value);
    if (v == "true" || v == "on" || v == "1")
        return true;
    if (v == "false" || v == "off" || v == "0")
        return false;
    return std::nullopt;
}

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
    bool spaces_dropped = false;
    const auto part = [&spaces_dropped](std::string_view s) {
        const std::string_view t = trimmed(s);
        spaces_dropped = spaces_dropped || t.size() != s.size();
        return t;
    };
    out.engine = lower(part(head.substr(0, scheme_end)));
    out.model = std::string(part(head.substr(scheme_end + 3)));
    if (std::find(engines.begin(), engines.end(), out.engine) == engines.end())
        fail(text, fmt::format("unknown engine '{}' (known: vllm, sglang, openai)", out.engine));
    if (out.model.empty())
        fail(text, "the model name is empty");
    if (std::any_of(out.model.begin(), out.model.end(), is_space))
        fail(text, fmt::format("the model name '{}' contains a space; served model names have none", out.model));

    std::vector<std::string> seen;
    bool near_native_video = false; // a misspelled #nativevideo changes which plugin answers: say so
    size_t pos = first_hash;
    while (pos != std::string_view::npos) {
        const size_t next = text.find('#', pos + 1);
        const std::string_view option =
            part(text.substr(pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1));
        pos = next;
        if (option.empty()) {
            out.warnings.push_back(fmt::format("loadout '{}': an empty option between '#' signs is ignored", text));
            continue;
        }

        const size_t eq = option.find('=');
        std::string key = lower(eq == std::string_view::npos ? option : part(option.substr(0, eq)));
        if (key == "num_ctx") // Jarvis's name for ctx once parsed (utils/config.py renames it)
            key = "ctx";
        if (std::find(seen.begin(), seen.end(), key) != seen.end())
            out.warnings.push_back(fmt::format("loadout '{}': '{}' is given more than once; the last one counts", text, key));
        seen.push_back(key);

        if (eq == std::string_view::npos) {
            if (key == "nativevideo")
                out.native_video = true;
            else if (key == "stream")
                out.stream = true;
            else {
                const std::string hint = suggestion(key, known_flags, "#");
                near_native_video = near_native_video || hint.find("#nativevideo") != std::string::npos;
                out.warnings.push_back(fmt::format("loadout '{}': unknown flag '#{}' is ignored{}", text, option, hint));
            }
            continue;
        }
        const std::string_view value = part(option.substr(eq + 1));
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
        else if (key == "vid_lim")
            out.video_limit = parse_integer(text, key, value, 0, 1024);
        else if (key == "img_lim")
            out.image_limit = parse_integer(text, key, value, 0, 4096);
        else if ((key == "nativevideo" || key == "stream") && boolean_value(value))
            (key == "stream" ? out.stream : out.native_video) = *boolean_value(value);
        else if (key == "nativevideo" || key == "stream")
            fail(text, fmt::format("{}={} is not one of true|false", key, value));
        else
            out.warnings.push_back(fmt::format("loadout '{}': unknown key '{}' is ignored{}", text, key,
                                               suggestion(key, known_keys, "")));
    }

    if (spaces_dropped)
        out.warnings.push_back(fmt::format("loadout '{}': spaces around its parts are ignored", text));
    if (near_native_video && !out.native_video)
        out.warnings.push_back(fmt::format("loadout '{}': without #nativevideo the frame_slicer plugin answers (frames as images)", text));
    // A clip starts at 0 unless start= says otherwise: end=0 alone is as empty as end=2 after start=5.
    if (out.end_s && *out.end_s <= out.start_s.value_or(0))
        fail(text, fmt::format("end={} must be after start={}", *out.end_s, out.start_s.value_or(0)));
    if (out.delivery && !out.native_video)
        out.warnings.push_back(fmt::format("loadout '{}': delivery= applies only with #nativevideo and is ignored: "
                                           "frame_slicer always sends images", text));
    if (!out.fallback && !out.native_video)
        out.warnings.push_back(fmt::format("loadout '{}': fallback= applies only with #nativevideo and is ignored", text));
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
