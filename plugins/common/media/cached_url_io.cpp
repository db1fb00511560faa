#include "media/cached_url_io.hpp"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/mem.h>
#include <libavutil/opt.h>
}

#include <algorithm>
#include <climits>

namespace jarvis {
namespace {

constexpr int buffer_size = 32 * 1024; // FFmpeg's own default

} // namespace

std::string location_after_redirects(AVIOContext* reader, const std::string& url)
{
    uint8_t* location = nullptr;
    // FFmpeg's HTTP reader keeps it as an option of its protocol context, a child of the reader.
    if (av_opt_get(reader, "location", AV_OPT_SEARCH_CHILDREN, &location) < 0 || location == nullptr)
        return url;
    std::string found = reinterpret_cast<const char*>(location);
    av_free(location);
    return found.empty() ? url : found;
}

std::unique_ptr<CachedUrlIo> CachedUrlIo::open(const std::string& url, std::shared_ptr<UrlRangeCache> cache, const AVIOInterruptCB& interrupt,
                                               AVDictionary** options, int& error)
{
    std::unique_ptr<CachedUrlIo> io(new CachedUrlIo());
    io->cache_ = std::move(cache);
    error = avio_open2(&io->network_, url.c_str(), AVIO_FLAG_READ, &interrupt, options);
    if (error < 0)
        return nullptr;
    io->size_ = avio_size(io->network_);
    io->location_ = location_after_redirects(io->network_, url);
    auto* buffer = static_cast<unsigned char*>(av_malloc(buffer_size));
    if (buffer != nullptr)
        io->outer_ = avio_alloc_context(buffer, buffer_size, 0, io.get(), &CachedUrlIo::read, nullptr, &CachedUrlIo::seek);
    if (io->outer_ == nullptr) {
        av_free(buffer);
        error = AVERROR(ENOMEM);
        return nullptr;
    }
    io->outer_->seekable = io->network_->seekable;
    return io;
}

CachedUrlIo::~CachedUrlIo()
{
    if (outer_ != nullptr)
        av_freep(&outer_->buffer); // FFmpeg may have replaced the buffer given: free the one it holds
    avio_context_free(&outer_);
    avio_closep(&network_);
}

std::string CachedUrlIo::peek(size_t size)
{
    std::string first(size, '\0');
    size_t got = 0;
    position_ = 0;
    while (got < size) {
        const int n = read(this, reinterpret_cast<uint8_t*>(first.data() + got), static_cast<int>(size - got));
        if (n <= 0)
            break; // the demuxer's own read meets the same end or error, and reports it
        got += static_cast<size_t>(n);
    }
    position_ = 0;
    first.resize(got);
    return first;
}

int CachedUrlIo::read(void* opaque, uint8_t* buffer, int size)
{
    auto* io = static_cast<CachedUrlIo*>(opaque);
    if (size <= 0)
        return 0;
    if (io->size_ >= 0 && io->position_ >= io->size_)
        return AVERROR_EOF;
    const size_t cached = io->cache_->read(io->position_, buffer, static_cast<size_t>(size));
    if (cached > 0) {
        io->position_ += static_cast<int64_t>(cached);
        return static_cast<int>(cached);
    }
    // From the network, up to the next cached byte (not fetched twice).
    const int64_t next_cached = io->cache_->next_cached_after(io->position_);
    const int wanted = static_cast<int>(std::min<int64_t>(size, next_cached - io->position_));
    if (avio_tell(io->network_) != io->position_) {
        const int64_t at = avio_seek(io->network_, io->position_, SEEK_SET);
        if (at < 0)
            return static_cast<int>(at);
    }
    const int got = avio_read_partial(io->network_, buffer, wanted);
    if (got == 0)
        return AVERROR_EOF;
    if (got < 0)
        return got;
    io->cache_->store(io->position_, buffer, static_cast<size_t>(got));
    io->position_ += got;
    return got;
}

int64_t CachedUrlIo::seek(void* opaque, int64_t offset, int whence)
{
    auto* io = static_cast<CachedUrlIo*>(opaque);
    switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE: return io->size_ >= 0 ? io->size_ : AVERROR(ENOSYS);
    case SEEK_SET: break;
    case SEEK_CUR: offset += io->position_; break;
    case SEEK_END:
        if (io->size_ < 0)
            return AVERROR(ENOSYS);
        offset += io->size_;
        break;
    default: return AVERROR(EINVAL);
    }
    if (offset < 0)
        return AVERROR(EINVAL);
    io->position_ = offset; // the network reader follows when bytes must come from it
    return offset;
}

} // namespace jarvis
