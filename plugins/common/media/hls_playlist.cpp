#include "media/hls_playlist.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>

namespace jarvis::hls {
namespace {

// The playlist's lines, without line ends (LF or CRLF) and surrounding blanks.
std::vector<std::string_view> lines_of(std::string_view text)
{
    if (text.substr(0, 3) == "\xEF\xBB\xBF")
        text.remove_prefix(3);
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
            line.remove_suffix(1);
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())))
            line.remove_prefix(1);
        lines.push_back(line);
    }
    return lines;
}

bool starts_with(std::string_view s, std::string_view prefix)
{
    return s.substr(0, prefix.size()) == prefix;
}

bool is_playlist(const std::vector<std::string_view>& lines)
{
    return !lines.empty() && starts_with(lines.front(), "#EXTM3U");
}

// An attribute list (RFC 8216 4.2): NAME=VALUE pairs separated by commas, where a quoted value may hold commas.
std::map<std::string, std::string, std::less<>> attributes_of(std::string_view list)
{
    std::map<std::string, std::string, std::less<>> attributes;
    size_t i = 0;
    while (i < list.size()) {
        const size_t equals = list.find('=', i);
        if (equals == std::string_view::npos)
            break;
        const std::string_view name = list.substr(i, equals - i);
        size_t value_end = equals + 1;
        std::string_view value;
        if (value_end < list.size() && list[value_end] == '"') {
            const size_t close = list.find('"', value_end + 1);
            value = list.substr(value_end + 1, (close == std::string_view::npos ? list.size() : close) - value_end - 1);
            value_end = close == std::string_view::npos ? list.size() : close + 1;
        } else {
            value_end = std::min(list.find(',', value_end), list.size());
            value = list.substr(equals + 1, value_end - equals - 1);
        }
        attributes.emplace(std::string(name), std::string(value));
        const size_t comma = list.find(',', value_end);
        i = comma == std::string_view::npos ? list.size() : comma + 1;
    }
    return attributes;
}

// "1280x720", both sides positive.
bool parse_resolution(const std::string& value, int& width, int& height)
{
    char* end = nullptr;
    const long w = std::strtol(value.c_str(), &end, 10);
    if (end == value.c_str() || (*end != 'x' && *end != 'X'))
        return false;
    const char* h_start = end + 1;
    const long h = std::strtol(h_start, &end, 10);
    if (end == h_start || *end != '\0' || w <= 0 || h <= 0 || w > 1 << 16 || h > 1 << 16)
        return false;
    width = static_cast<int>(w);
    height = static_cast<int>(h);
    return true;
}

// A positive number at the start of `value` ("29.970", "4.004,title"); 0 when there is none.
double parse_number(const std::string& value)
{
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    return end != value.c_str() && std::isfinite(v) && v > 0 ? v : 0;
}

int64_t area(const Variant& v)
{
    return int64_t(v.width) * v.height;
}

// "http://host:port" of an absolute URL; empty when it has none.
std::string_view origin_of(std::string_view url)
{
    const size_t scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos)
        return {};
    const size_t path_start = url.find_first_of("/?#", scheme_end + 3);
    return url.substr(0, path_start);
}

// "/a/./b/../c" as "/a/c" (RFC 3986 5.2.4).
std::string without_dot_segments(std::string_view path)
{
    std::vector<std::string_view> kept;
    size_t i = 0;
    while (i <= path.size()) {
        const size_t slash = std::min(path.find('/', i), path.size());
        const std::string_view segment = path.substr(i, slash - i);
        const bool last = slash == path.size();
        if (segment == "..") {
            if (kept.size() > 1)
                kept.pop_back();
            if (last)
                kept.emplace_back(); // "/a/b/.." is the folder "/a/"
        } else if (segment == ".") {
            if (last)
                kept.emplace_back();
        } else {
            kept.push_back(segment);
        }
        i = slash + 1;
    }
    std::string out;
    for (size_t k = 0; k < kept.size(); ++k) {
        if (k > 0)
            out += '/';
        out += kept[k];
    }
    return out;
}

} // namespace

bool starts_as_playlist(std::string_view text)
{
    if (starts_with(text, "\xEF\xBB\xBF"))
        text.remove_prefix(3);
    return starts_with(text, "#EXTM3U");
}

std::string resolve_url(std::string_view base, std::string_view reference)
{
    const size_t colon = reference.find(':');
    const size_t delimiter = reference.find_first_of("/?#");
    if (colon != std::string_view::npos && colon > 0 && (delimiter == std::string_view::npos || colon < delimiter))
        return std::string(reference); // it has a scheme of its own
    const std::string_view origin = origin_of(base);
    if (starts_with(reference, "//"))
        return std::string(base.substr(0, base.find(':') + 1)) + std::string(reference);
    const std::string_view base_rest = base.substr(origin.size());
    const std::string_view base_path = base_rest.substr(0, base_rest.find_first_of("?#"));
    const size_t reference_path_end = std::min(reference.find_first_of("?#"), reference.size());
    const std::string_view reference_path = reference.substr(0, reference_path_end);
    const std::string_view reference_tail = reference.substr(reference_path_end);
    if (reference_path.empty())
        return std::string(origin) + std::string(base_path.empty() ? "/" : base_path) + std::string(reference_tail);
    std::string path;
    if (reference_path.front() == '/')
        path = std::string(reference_path);
    else {
        const size_t folder_end = base_path.rfind('/');
        path = (folder_end == std::string_view::npos ? std::string("/") : std::string(base_path.substr(0, folder_end + 1))) +
               std::string(reference_path);
    }
    return std::string(origin) + without_dot_segments(path) + std::string(reference_tail);
}

std::optional<std::vector<Variant>> complete_master_variants(std::string_view text, std::string_view master_url)
{
    const std::vector<std::string_view> lines = lines_of(text);
    if (!is_playlist(lines))
        return std::nullopt;
    std::vector<Variant> variants;
    std::optional<Variant> pending; // an EXT-X-STREAM-INF waiting for its URI line
    for (const std::string_view line : lines) {
        if (starts_with(line, "#EXT-X-STREAM-INF:")) {
            const auto a = attributes_of(line.substr(std::string_view("#EXT-X-STREAM-INF:").size()));
            Variant v;
            const auto resolution = a.find("RESOLUTION");
            if (resolution == a.end() || !parse_resolution(resolution->second, v.width, v.height))
                return std::nullopt; // audio only, or a size that only reading it tells
            if (const auto rate = a.find("FRAME-RATE"); rate != a.end())
                v.frame_rate = parse_number(rate->second);
            if (const auto bandwidth = a.find("BANDWIDTH"); bandwidth != a.end())
                v.bandwidth = std::max(0LL, std::strtoll(bandwidth->second.c_str(), nullptr, 10)); // saturates when too large
            pending = std::move(v);
        } else if (starts_with(line, "#EXT-X-MEDIA:")) {
            const auto a = attributes_of(line.substr(std::string_view("#EXT-X-MEDIA:").size()));
            if (const auto type = a.find("TYPE"); type != a.end() && type->second == "VIDEO")
                return std::nullopt; // the picture may be in a rendition, not in the variant
        } else if (starts_with(line, "#EXTINF") || starts_with(line, "#EXT-X-TARGETDURATION")) {
            return std::nullopt; // a media playlist
        } else if (!line.empty() && line.front() != '#' && pending) {
            pending->url = resolve_url(master_url, line);
            variants.push_back(std::move(*pending));
            pending.reset();
        }
    }
    if (variants.empty() || pending)
        return std::nullopt;
    return variants;
}

const Variant& largest_variant(const std::vector<Variant>& variants)
{
    return *std::max_element(variants.begin(), variants.end(), [](const Variant& a, const Variant& b) {
        return area(a) != area(b) ? area(a) < area(b) : a.bandwidth < b.bandwidth;
    });
}

const Variant& smallest_variant_covering(const std::vector<Variant>& variants, int width, int height)
{
    const Variant& largest = largest_variant(variants);
    const Variant* best = &largest;
    for (const Variant& v : variants) {
        // The same picture at another size: a variant with another shape is another view, not a cheaper copy.
        const bool same_shape =
            std::abs(double(v.width) * largest.height - double(v.height) * largest.width) <= 0.02 * double(area(largest));
        if (!same_shape || v.width < width || v.height < height)
            continue;
        // Of two at one size, the higher bandwidth: a better picture for the model at the same decoding cost.
        if (area(v) < area(*best) || (area(v) == area(*best) && v.bandwidth > best->bandwidth))
            best = &v;
    }
    return *best;
}

std::optional<MediaPlaylistLength> media_playlist_length(std::string_view text)
{
    const std::vector<std::string_view> lines = lines_of(text);
    if (!is_playlist(lines))
        return std::nullopt;
    MediaPlaylistLength length;
    bool any_segment = false;
    for (const std::string_view line : lines) {
        if (starts_with(line, "#EXTINF:")) {
            length.duration_s += parse_number(std::string(line.substr(std::string_view("#EXTINF:").size()))); // "4.004,title"
            any_segment = true;
        } else if (starts_with(line, "#EXT-X-ENDLIST")) {
            length.ended = true;
        } else if (starts_with(line, "#EXT-X-STREAM-INF")) {
            return std::nullopt; // a master
        }
    }
    if (!any_segment)
        return std::nullopt;
    return length;
}

} // namespace jarvis::hls
