#include "media/downloaded_copy.hpp"

#include "platform/native_path.hpp"
#include "platform/owned_files.hpp"

#include <fmt/format.h>

#include <cctype>

namespace jarvis {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view download_prefix = "jarvis-download-";

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

} // namespace jarvis
