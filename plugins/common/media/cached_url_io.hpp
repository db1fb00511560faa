#pragma once

#include "media/downloaded_copy.hpp"
#include "media/url_range_cache.hpp"

extern "C" {
#include <libavformat/avio.h>
}

#include <fstream>
#include <functional>
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

    // A server that takes no range requests (no "Accept-Ranges: bytes") sends every body from its first byte: each
    // seek back would fetch the file again from its start, and an MP4 whose index is at its end would be read whole
    // to open it and again to decode it. Such a URL of known length is read once, in order, into a temporary copy
    // that serves every read behind the network's position (the range cache is not used); a seek ahead reads on to
    // it. Where no copy can be written (no temporary folder, too little room), the cache serves as for any server.
    bool reads_in_order() const { return in_order_copy_ != nullptr; }
    // Reads the rest of the URL into that copy, reporting the fraction held, and returns it whole: nothing when the
    // URL is not read in order. Throws MediaCancelled when the interrupt says so, MediaError naming the URL when the
    // server or the copy fails.
    std::shared_ptr<const DownloadedCopy> finish_in_order_copy(const std::function<void(double)>& progress);
    // Why reading the URL stopped short of its length: its server ended a body or stopped sending, or writing the
    // in-order copy failed (a disk that filled since the room was checked, a file size limit; the copy is named).
    // Empty while nothing has. The read that failed returns the error, which a demuxer may report as damaged data.
    const std::string& read_error() const { return read_error_; }

private:
    CachedUrlIo() = default;
    static int read(void* opaque, uint8_t* buffer, int size);
    static int64_t seek(void* opaque, int64_t offset, int whence);
    // Starts the copy of a server without ranges; none where it cannot be written.
    void start_in_order_copy(const std::string& url);
    // The in-order reading: bytes behind the network's position from the copy, the others from the network, each
    // written to the copy as it arrives. FFmpeg's error codes, as read() returns them.
    int read_in_order(uint8_t* buffer, int size);
    int copy_from_network(uint8_t* buffer, int size);
    // Keeps why a read from the network at `at` failed (`error`, 0 for an ended body; `waited_s` the time the read
    // took), and returns the error to give.
    int network_failed(int error, int64_t at, double waited_s = 0);

    std::shared_ptr<UrlRangeCache> cache_;
    AVIOContext* network_ = nullptr; // FFmpeg's reader of the URL
    AVIOContext* outer_ = nullptr;   // what the demuxer reads
    int64_t position_ = 0;
    int64_t size_ = -1;
    double io_timeout_s_ = 0; // the reader's rw_timeout (video_url.timeout_s); 0 when it has none
    std::string url_;
    std::string location_;
    AVIOInterruptCB interrupt_{};
    std::shared_ptr<DownloadedCopy> in_order_copy_; // set while the URL is read in order
    std::fstream in_order_file_;                     // its bytes, [0, copied_)
    int64_t copied_ = 0;                             // the network reader's position
    std::string read_error_;
};

} // namespace jarvis
