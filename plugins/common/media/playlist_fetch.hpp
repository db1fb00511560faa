#pragma once

extern "C" {
#include <libavformat/avio.h>
}

#include <string>

namespace jarvis {

// A playlist's text as its server sends it, and the URL it came from after redirects; `error` is FFmpeg's, if one
// cut the reading short.
struct PlaylistText
{
    std::string text;
    std::string url;
    int error = 0;
};

// A playlist's text read from `pb` to its end. Without text when it cannot be read, is not a playlist (read no
// further than its first bytes), is over 4 MB, or with `masters_only` lists segments (read no further than the first);
// `error` then holds FFmpeg's error, if there was one.
// Throws MediaCancelled when `interrupt` says so.
PlaylistText read_playlist_text(AVIOContext* pb, const AVIOInterruptCB& interrupt, bool masters_only);

// read_playlist_text of `url`, over the network only, with the URL it came from after redirects (what its relative
// URIs resolve against).
PlaylistText fetch_playlist_text(const std::string& url, const AVIOInterruptCB& interrupt, double io_timeout_s, bool masters_only);

// Whether a URL's path names a playlist (".m3u8", ".m3u").
bool names_playlist(const std::string& url);

} // namespace jarvis
