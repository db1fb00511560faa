#include "media/downloaded_copy.hpp"

#include "media/av_handles.hpp"
#include "platform/native_path.hpp"
#include "platform/owned_files.hpp"

extern "C" {
#include <libavutil/error.h>
}

#include <fmt/format.h>

#include <cctype>

namespace jarvis {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view download_prefix = "jarvis-download-";

std::string connection_failure(int error)
{
    // FFmpeg's HTTP reader says EIO when a body ends short of its length ("Stream ends prematurely"), and for other
    // failures of the connection.
    return error == AVERROR(EIO) ? "the connection ended or failed" : av::error_string(error);
}

} // namespace

std::string copy_extension_for(const std::string& url)
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

std::filesystem::path new_copy_path(std::string_view extension)
{
    const fs::path temp = fs::temp_directory_path();
    // Copies of processes that were killed (no destructor ran) go first, so that their room counts.
    remove_abandoned_files(temp, download_prefix);
    return owned_file_path(temp, download_prefix, extension);
}

std::string too_little_room(const std::filesystem::path& folder, int64_t size)
{
    if (size <= 0)
        return {};
    std::error_code ec;
    const auto space = fs::space(folder, ec);
    if (ec || space.available >= static_cast<uintmax_t>(size) * 2)
        return {};
    return fmt::format("{:.0f} MB free in {}, too little for a {:.0f} MB copy", double(space.available) / 1e6, utf8_path(folder),
                       double(size) / 1e6);
}

DownloadedCopy::~DownloadedCopy()
{
    std::error_code ec;
    fs::remove(native_path(path_), ec);
}

std::string why_body_stopped(int error, int64_t received, int64_t size)
{
    const std::string got = size > 0 ? fmt::format("{:.1f} of {:.1f} MB", double(received) / 1e6, double(size) / 1e6)
                                     : fmt::format("{:.1f} MB", double(received) / 1e6);
    if (error == 0 || error == AVERROR_EOF)
        return fmt::format("its server ended the body after {}{}", got, size > 0 ? ", short of the length it gave" : "");
    return fmt::format("its server stopped sending after {} ({})", got, connection_failure(error));
}

std::string why_range_read_stopped(int error, int64_t at, int64_t size, double timed_out_after_s)
{
    const std::string reason = timed_out_after_s > 0 ? fmt::format("timed out: nothing arrived for {:.1f} s", timed_out_after_s)
                               : error == 0 || error == AVERROR_EOF ? std::string("the body ended")
                                                                    : connection_failure(error);
    return fmt::format("its server sent nothing from byte {} of its {} on ({})", at, size, reason);
}

} // namespace jarvis
