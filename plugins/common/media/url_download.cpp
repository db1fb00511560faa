#include "media/url_download.hpp"

#include "media/media_error.hpp"
#include "platform/native_path.hpp"
#include "platform/owned_files.hpp"

#include <fmt/format.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <vector>

namespace jarvis {
namespace {

namespace fs = std::filesystem;

// The URL path's extension when it looks like one (".mp4"), so that FFmpeg's probe gets the hint a file name gives.
std::string extension_of(const std::string& url)
{
    const std::string path = url.substr(0, url.find_first_of("?#"));
    const size_t dot = path.rfind('.');
    if (dot == std::string::npos || path.find('/', dot) != std::string::npos || path.size() - dot > 6 || path.size() - dot < 2)
        return ".video";
    for (size_t i = dot + 1; i < path.size(); ++i)
        if (!std::isalnum(static_cast<unsigned char>(path[i])))
            return ".video";
    return path.substr(dot);
}

constexpr std::string_view download_prefix = "jarvis-download-";

} // namespace

std::filesystem::path new_copy_path(std::string_view extension)
{
    const fs::path temp = fs::temp_directory_path();
    // Copies of processes that were killed (no destructor ran) go first, so that their room counts.
    remove_abandoned_files(temp, download_prefix);
    return owned_file_path(temp, download_prefix, extension);
}

DownloadedCopy::~DownloadedCopy()
{
    std::error_code ec;
    fs::remove(native_path(path_), ec);
}

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

    std::error_code ec;
    fs::path path;
    try {
        path = new_copy_path(extension_of(url));
    } catch (const fs::filesystem_error& e) {
        why_not = fmt::format("no temporary folder ({})", e.what());
        return nullptr;
    }
    if (size > 0) {
        const auto space = fs::space(path.parent_path(), ec);
        // Room for the copy and as much again, so that a copy does not fill the disk for everything else.
        if (!ec && space.available < static_cast<uintmax_t>(size) * 2) {
            why_not = fmt::format("{:.0f} MB free in {}, too little for a {:.0f} MB copy", double(space.available) / 1e6,
                                  utf8_path(path.parent_path()), double(size) / 1e6);
            return nullptr;
        }
    }
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
            throw fail(fmt::format("the download failed after {:.1f} MB: {}", double(received) / 1e6, av::error_string(n)));
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
        throw fail(fmt::format("the download ended after {:.1f} of {:.1f} MB", double(received) / 1e6, double(size) / 1e6));
    return copy;
}

} // namespace jarvis
