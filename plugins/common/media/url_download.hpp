#pragma once

#include "media/frame_index.hpp"
#include "media/media_source.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace jarvis {

// A URL's bytes in a temporary file of this machine, removed when the copy goes (an exception, a cancellation or the
// end of the request alike).
class DownloadedCopy
{
public:
    explicit DownloadedCopy(std::string path) : path_(std::move(path)) {}
    DownloadedCopy(const DownloadedCopy&) = delete;
    DownloadedCopy& operator=(const DownloadedCopy&) = delete;
    ~DownloadedCopy();

    const std::string& path() const { return path_; } // UTF-8

private:
    std::string path_;
};

// A new name for a copy in the temporary folder, ending in `extension` (nothing is created), once the copies of
// processes that were killed are removed. Throws std::filesystem::filesystem_error when there is no temporary folder.
std::filesystem::path new_copy_path(std::string_view extension);

// Downloads `url` whole into a temporary file, reporting the fraction done when the size is known. Where the copy
// cannot be written (no temporary folder, not enough room, a failed write) it returns nothing and `why_not` says why,
// so that the caller reads the URL itself. Throws MediaCancelled when `interrupted` says so, MediaError naming the URL
// when the download fails.
std::shared_ptr<const DownloadedCopy> download_copy(const std::string& url, const MediaSource::InterruptCheck& interrupted,
                                                   const ScanProgress& progress, double io_timeout_s, std::string& why_not);

} // namespace jarvis
