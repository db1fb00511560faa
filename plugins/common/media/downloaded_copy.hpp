#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

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

// The extension a copy of `url` gets: its path's (".mp4") when it looks like one, so that FFmpeg's probe gets the
// hint a file name gives; ".video" otherwise.
std::string copy_extension_for(const std::string& url);

// Why a copy of `size` bytes (unknown: -1) should not be made in `folder`, or nothing: room for the copy and as much
// again, so that a copy does not fill the disk for everything else.
std::string too_little_room(const std::filesystem::path& folder, int64_t size);

} // namespace jarvis
