#include "media/playlist_fetch.hpp"

#include "media/cached_url_io.hpp"
#include "media/hls_playlist.hpp"
#include "media/media_error.hpp"
#include "media/media_source.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace jarvis {
namespace {

// A master lists a line per variant, a media playlist a line per segment: hours of video in short segments are a
// few hundred kB.
constexpr size_t longest_playlist = 4 << 20;

} // namespace

PlaylistText read_playlist_text(AVIOContext* pb, const AVIOInterruptCB& interrupt, bool masters_only)
{
    const auto cancelled = [&](int rc) { return rc == AVERROR_EXIT || interrupt.callback(interrupt.opaque) != 0; };
    PlaylistText playlist;
    unsigned char buffer[16384];
    while (true) {
        const int got = avio_read(pb, buffer, sizeof buffer);
        if (got == AVERROR_EOF || got == 0)
            break;
        if (cancelled(got))
            throw MediaCancelled();
        if (got < 0) {
            playlist.error = got;
            playlist.text.clear();
            return playlist;
        }
        playlist.text.append(reinterpret_cast<const char*>(buffer), static_cast<size_t>(got));
        const bool not_wanted = (playlist.text.size() >= 10 && !hls::starts_as_playlist(playlist.text)) ||
                                (masters_only && playlist.text.find("#EXTINF:") != std::string::npos);
        if (not_wanted || playlist.text.size() > longest_playlist) {
            playlist.text.clear();
            return playlist;
        }
    }
    return playlist;
}

PlaylistText fetch_playlist_text(const std::string& url, const AVIOInterruptCB& interrupt, double io_timeout_s, bool masters_only)
{
    std::unique_ptr<AVDictionary, av::DictionaryFreer> options = url_io_options(io_timeout_s);
    AVDictionary* opts = options.release();
    av_dict_set(&opts, "protocol_whitelist", "http,https,tls,tcp", 0);
    AVIOContext* raw = nullptr;
    PlaylistText playlist;
    playlist.error = avio_open2(&raw, url.c_str(), AVIO_FLAG_READ, &interrupt, &opts);
    options.reset(opts);
    if (playlist.error == AVERROR_EXIT || interrupt.callback(interrupt.opaque) != 0)
        throw MediaCancelled();
    if (playlist.error < 0)
        return playlist;
    av::IoContext pb(raw);
    playlist = read_playlist_text(pb.get(), interrupt, masters_only);
    if (!playlist.text.empty())
        playlist.url = location_after_redirects(pb.get(), url);
    return playlist;
}

bool names_playlist(const std::string& url)
{
    std::string path = url.substr(0, url.find_first_of("?#"));
    std::transform(path.begin(), path.end(), path.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto ends_with = [&](std::string_view suffix) {
        return path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return ends_with(".m3u8") || ends_with(".m3u");
}

} // namespace jarvis
