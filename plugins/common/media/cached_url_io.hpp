#pragma once

#include "media/url_range_cache.hpp"

extern "C" {
#include <libavformat/avio.h>
}

#include <memory>
#include <string>

namespace jarvis {

// Where FFmpeg's reader of `url` (avio_open2's) got its bytes from, after the server's redirects; `url` itself when
// it was not redirected.
std::string location_after_redirects(AVIOContext* reader, const std::string& url);

// The reader a demuxer is given for a URL whose bytes are shared through a UrlRangeCache: what the cache holds comes
// from memory, the rest from FFmpeg's own HTTP reader, and is kept. The network reader follows the demuxer's seeks
// only when bytes must come from it, so a pass over cached ranges makes no request at all.
class CachedUrlIo
{
public:
    // Opens `url` with FFmpeg's reader (`interrupt` and `options` as avio_open2 takes them). On failure, nothing and
    // FFmpeg's error in `error`.
    static std::unique_ptr<CachedUrlIo> open(const std::string& url, std::shared_ptr<UrlRangeCache> cache, const AVIOInterruptCB& interrupt,
                                             AVDictionary** options, int& error);
    ~CachedUrlIo();
    CachedUrlIo(const CachedUrlIo&) = delete;
    CachedUrlIo& operator=(const CachedUrlIo&) = delete;

    AVIOContext* context() const { return outer_; }
    // The first `size` bytes (fewer at the end or on an error), read before the demuxer reads anything: they are kept,
    // so the demuxer's reading of them then costs nothing.
    std::string peek(size_t size);
    // Where the bytes come from, after the server's redirects: what relative URLs in them (an HLS playlist's
    // segments and variants) resolve against. FFmpeg finds it only in a reader of its own, not in this one.
    const std::string& location() const { return location_; }

private:
    CachedUrlIo() = default;
    static int read(void* opaque, uint8_t* buffer, int size);
    static int64_t seek(void* opaque, int64_t offset, int whence);

    std::shared_ptr<UrlRangeCache> cache_;
    AVIOContext* network_ = nullptr; // FFmpeg's reader of the URL
    AVIOContext* outer_ = nullptr;   // what the demuxer reads
    int64_t position_ = 0;
    int64_t size_ = -1;
    std::string location_;
};

} // namespace jarvis
