#pragma once

// What an HLS playlist's text says before FFmpeg opens it: a master playlist's variants with their sizes, and a media
// playlist's length. FFmpeg's HLS reader opens the first segment of every variant of a master to find its streams
// (and then reads each until it knows them), so a master is read here first and only the variant the frames need is
// given to FFmpeg: the other variants' segments are never fetched.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jarvis::hls {

// Whether `text` (a file's first bytes, 10 are enough) is a playlist's: #EXTM3U first, after a byte order mark at the
// most (RFC 8216 4.3.1.1).
bool starts_as_playlist(std::string_view text);

struct Variant
{
    std::string url;          // absolute: resolved against the master's own URL
    int width = 0;            // RESOLUTION, as the picture is shown
    int height = 0;
    double frame_rate = 0;    // FRAME-RATE; 0 when not given
    long long bandwidth = 0;  // BANDWIDTH, bits per second
};

// A master playlist's variants in their order, when every one gives its RESOLUTION and its video is in the variant
// itself; nothing otherwise (a media playlist, an audio-only variant, video in alternative renditions
// (EXT-X-MEDIA TYPE=VIDEO), a variant without a size, text that is not a playlist), for FFmpeg to read as it is.
// `master_url` is where the text came from, after redirects.
std::optional<std::vector<Variant>> complete_master_variants(std::string_view text, std::string_view master_url);

// The variant of the same picture (within 2% of the largest's shape) with the fewest pixels that is at least
// `width` x `height`; the largest when none is (the most pixels, then the highest bandwidth).
const Variant& smallest_variant_covering(const std::vector<Variant>& variants, int width, int height);
const Variant& largest_variant(const std::vector<Variant>& variants);

// A media playlist's length: the sum of its segments' durations, and whether it ends (#EXT-X-ENDLIST).
struct MediaPlaylistLength
{
    double duration_s = 0;
    bool ended = false;
};
std::optional<MediaPlaylistLength> media_playlist_length(std::string_view text);

// `reference` as RFC 3986 resolves it against `base` (both http(s)): an absolute URL, a path from the host's root
// ("/a/b"), a path relative to base's folder (with "." and ".." segments), or a query of its own.
std::string resolve_url(std::string_view base, std::string_view reference);

} // namespace jarvis::hls
