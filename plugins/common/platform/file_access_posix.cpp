#include "platform/file_access.hpp"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace jarvis {

std::optional<std::string> cannot_read(const std::filesystem::path& file)
{
    if (::access(file.c_str(), R_OK) != 0)
        return std::string(std::strerror(errno));
    return std::nullopt;
}

std::optional<std::string> cannot_write_into(const std::filesystem::path& dir)
{
    if (::access(dir.c_str(), W_OK) != 0)
        return std::string(std::strerror(errno));
    return std::nullopt;
}

bool hard_link_if_same_volume(const std::filesystem::path& target, const std::filesystem::path& link)
{
    struct stat target_stat = {};
    struct stat dir_stat = {};
    return ::stat(target.c_str(), &target_stat) == 0 && ::stat(link.parent_path().c_str(), &dir_stat) == 0 &&
           target_stat.st_dev == dir_stat.st_dev && ::link(target.c_str(), link.c_str()) == 0;
}

} // namespace jarvis
