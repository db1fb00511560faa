#include "media/cached_url_io.hpp"

#include "media/av_handles.hpp"
#include "media/media_error.hpp"
#include "platform/native_path.hpp"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/mem.h>
#include <libavutil/opt.h>
}

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <vector>

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
    io->url_ = url;
    io->interrupt_ = interrupt;
    error = avio_open2(&io->network_, url.c_str(), AVIO_FLAG_READ, &interrupt, options);
    if (error < 0)
        return nullptr;
    io->size_ = avio_size(io->network_);
    int64_t rw_timeout_us = 0;
    if (av_opt_get_int(io->network_, "rw_timeout", AV_OPT_SEARCH_CHILDREN, &rw_timeout_us) >= 0 && rw_timeout_us > 0)
        io->io_timeout_s_ = double(rw_timeout_us) / 1e6;
    io->location_ = location_after_redirects(io->network_, url);
    auto* buffer = static_cast<unsigned char*>(av_malloc(buffer_size));
    if (buffer != nullptr)
        io->outer_ = avio_alloc_context(buffer, buffer_size, 0, io.get(), &CachedUrlIo::read, nullptr, &CachedUrlIo::seek);
    if (io->outer_ == nullptr) {
        av_free(buffer);
        error = AVERROR(ENOMEM);
        return nullptr;
    }
    // Still unseekable to the demuxer where the server is: it then reads no optional part at the end of the file (a
    // transport stream's last timestamps, a fragmented MP4's index of fragments), which would mean reading up to
    // there. The seeks it needs still come here, and the copy serves them.
    io->outer_->seekable = io->network_->seekable;
    // Live streams have no length: they are refused as live, not copied.
    if ((io->network_->seekable & AVIO_SEEKABLE_NORMAL) == 0 && io->size_ > 0)
        io->start_in_order_copy(url);
    return io;
}

void CachedUrlIo::start_in_order_copy(const std::string& url)
{
    namespace fs = std::filesystem;
    fs::path path;
    try {
        path = new_copy_path(copy_extension_for(url));
    } catch (const fs::filesystem_error&) {
        return;
    }
    if (!too_little_room(path.parent_path(), size_).empty())
        return;
    auto copy = std::make_shared<DownloadedCopy>(utf8_path(path));
    in_order_file_.open(path, std::ios::in | std::ios::out | std::ios::binary | std::ios::trunc);
    if (in_order_file_)
        in_order_copy_ = std::move(copy);
}

CachedUrlIo::~CachedUrlIo()
{
    // Closed before the copy may be removed: Windows removes no file that is open.
    in_order_file_.close();
    in_order_copy_.reset();
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
    if (io->in_order_copy_)
        return io->read_in_order(buffer, size);
    const size_t cached = io->cache_->read(io->position_, buffer, static_cast<size_t>(size));
    if (cached > 0) {
        io->position_ += static_cast<int64_t>(cached);
        return static_cast<int>(cached);
    }
    // From the network, up to the next cached byte (not fetched twice).
    const int64_t next_cached = io->cache_->next_cached_after(io->position_);
    const int wanted = static_cast<int>(std::min<int64_t>(size, next_cached - io->position_));
    const auto started = std::chrono::steady_clock::now();
    const auto waited_s = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
    if (avio_tell(io->network_) != io->position_) {
        const int64_t at = avio_seek(io->network_, io->position_, SEEK_SET);
        if (at < 0)
            return io->network_failed(static_cast<int>(at), io->position_, waited_s());
    }
    const int got = avio_read_partial(io->network_, buffer, wanted);
    if (got <= 0)
        return io->network_failed(got, io->position_, waited_s());
    io->cache_->store(io->position_, buffer, static_cast<size_t>(got));
    io->position_ += got;
    return got;
}

int CachedUrlIo::network_failed(int error, int64_t at, double waited_s)
{
    // Short of the length the server gave: the demuxer would report the missing bytes as damage ("moov atom not found"
    // for an MP4 whose index is at the end), where the reason is the server. A range read that waited out the I/O
    // timeout timed out, though FFmpeg's reader, having reconnected once, reports only EIO.
    if (at < size_ && error != AVERROR_EXIT && read_error_.empty())
        read_error_ = in_order_copy_ ? why_body_stopped(error, at, size_)
                                     : why_range_read_stopped(error, at, size_, io_timeout_s_ > 0 && waited_s >= io_timeout_s_ ? waited_s : 0);
    return error == 0 ? AVERROR_EOF : error;
}

int CachedUrlIo::read_in_order(uint8_t* buffer, int size)
{
    if (position_ < copied_) {
        const auto n = static_cast<std::streamsize>(std::min<int64_t>(size, copied_ - position_));
        in_order_file_.seekg(position_);
        in_order_file_.read(reinterpret_cast<char*>(buffer), n);
        if (in_order_file_.gcount() != n) {
            in_order_file_.clear();
            return AVERROR(EIO);
        }
        position_ += n;
        return static_cast<int>(n);
    }
    // A seek ahead: the bytes on the way are copied too, for the seek back that usually follows (MP4's index at the end).
    while (copied_ < position_) {
        const int got = copy_from_network(buffer, static_cast<int>(std::min<int64_t>(size, position_ - copied_)));
        if (got < 0)
            return got;
    }
    const int got = copy_from_network(buffer, size);
    if (got > 0)
        position_ += got;
    return got;
}

int CachedUrlIo::copy_from_network(uint8_t* buffer, int size)
{
    const int got = avio_read_partial(network_, buffer, size);
    if (got <= 0)
        return network_failed(got, copied_);
    errno = 0;
    in_order_file_.seekp(copied_);
    in_order_file_.write(reinterpret_cast<const char*>(buffer), got);
    if (!in_order_file_) {
        // The room was checked at the start: a disk that filled since, a file size limit, or a failing disk.
        const int error = errno != 0 ? errno : EIO;
        in_order_file_.clear();
        read_error_ = fmt::format("writing its temporary copy {} failed after {:.1f} of {:.1f} MB: {}", in_order_copy_->path(),
                                  double(copied_) / 1e6, double(size_) / 1e6, av::error_string(AVERROR(error)));
        return AVERROR(error);
    }
    copied_ += got;
    return got;
}

std::shared_ptr<const DownloadedCopy> CachedUrlIo::finish_in_order_copy(const std::function<void(double)>& progress)
{
    if (!in_order_copy_)
        return nullptr;
    std::vector<uint8_t> buffer(1 << 20);
    const auto interrupted = [this] { return interrupt_.callback != nullptr && interrupt_.callback(interrupt_.opaque) != 0; };
    while (copied_ < size_) {
        if (interrupted())
            throw MediaCancelled();
        const int got = copy_from_network(buffer.data(), static_cast<int>(std::min<int64_t>(buffer.size(), size_ - copied_)));
        if (got == AVERROR_EXIT || interrupted())
            throw MediaCancelled();
        if (got < 0)
            throw MediaError(fmt::format("cannot use video '{}': {}", url_, read_error_.empty() ? av::error_string(got) : read_error_));
        if (progress)
            progress(double(copied_) / double(size_));
    }
    in_order_file_.flush();
    if (!in_order_file_)
        throw MediaError(fmt::format("cannot use video '{}': writing its temporary copy {} failed", url_, in_order_copy_->path()));
    return in_order_copy_;
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
