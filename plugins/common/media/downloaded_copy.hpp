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

// Why a URL's body stopped after `received` bytes of `size` (unknown: -1), from the FFmpeg error its reader gave
// (AVERROR_EOF or 0 for a body that ended): the server named as the reason, and how far it got.
std::string why_body_stopped(int error, int64_t received, int64_t size);
// The same for a read by ranges that failed at offset `at` of the file; `timed_out_after_s` (0: it did not) when the
// read waited out the I/O timeout.
std::string why_range_read_stopped(int error, int64_t at, int64_t size, double timed_out_after_s = 0);

} // namespace jarvis
