#include "media/url_download.hpp"

#include "media/media_error.hpp"
#include "platform/native_path.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <vector>

namespace jarvis {
namespace fs = std::filesystem;

std::shared_ptr<const DownloadedCopy> download_copy(const std::string& url, const MediaSource::InterruptCheck& interrupted,
                                                   const ScanProgress& progress, double io_timeout_s, std::string& why_not)
{
    const auto fail = [&](const std::string& reason) { return MediaError(fmt::format("cannot use video '{}': {}", url, reason)); };
    std::unique_ptr<AVDictionary, av::DictionaryFreer> options = url_io_options(io_timeout_s);
    const AVIOInterruptCB interrupt{&interrupt_requested, const_cast<MediaSource::InterruptCheck*>(&interrupted)};
    AVIOContext* raw = nullptr;
    AVDictionary* opts = options.release();
    const int rc = avio_open2(&raw, url.c_str(), AVIO_FLAG_READ, &interrupt, &opts);
    options.reset(opts);
    if (rc < 0) {
        if (rc == AVERROR_EXIT || interrupt_requested(const_cast<MediaSource::InterruptCheck*>(&interrupted)))
            throw MediaCancelled();
        throw fail(av::error_string(rc));
    }
    av::IoContext input(raw);
    const int64_t size = avio_size(input.get());

    fs::path path;
    try {
        path = new_copy_path(copy_extension_for(url));
    } catch (const fs::filesystem_error& e) {
        why_not = fmt::format("no temporary folder ({})", e.what());
        return nullptr;
    }
    why_not = too_little_room(path.parent_path(), size);
    if (!why_not.empty())
        return nullptr;
    auto copy = std::make_shared<const DownloadedCopy>(utf8_path(path));
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) {
        why_not = fmt::format("cannot write {}", copy->path());
        return nullptr;
    }
    std::vector<unsigned char> buffer(1 << 20);
    int64_t received = 0;
    for (;;) {
        if (interrupted && interrupted())
            throw MediaCancelled();
        const int n = avio_read(input.get(), buffer.data(), static_cast<int>(buffer.size()));
        if (n == AVERROR_EOF || n == 0)
            break;
        if (n < 0) {
            if (n == AVERROR_EXIT || (interrupted && interrupted()))
                throw MediaCancelled();
            // A server that gives no length (HTTP/1.0 without Content-Length) ends its body by closing the connection,
            // which FFmpeg 5.1 reports as an I/O error ("Stream ends prematurely"). With no length to fall short of,
            // that close is the end; a copy cut short by a failure decodes as a truncated file does.
            if (size < 0 && received > 0 && n == AVERROR(EIO))
                break;
            throw fail(why_body_stopped(n, received, size));
        }
        out.write(reinterpret_cast<const char*>(buffer.data()), n);
        if (!out) {
            why_not = fmt::format("writing {} failed after {:.1f} MB", copy->path(), double(received) / 1e6);
            return nullptr;
        }
        received += n;
        if (progress && size > 0)
            progress(std::min(1.0, double(received) / double(size)));
    }
    out.close();
    if (!out) {
        why_not = fmt::format("writing {} failed", copy->path());
        return nullptr;
    }
    if (size > 0 && received < size)
        throw fail(why_body_stopped(AVERROR_EOF, received, size));
    return copy;
}

} // namespace jarvis
