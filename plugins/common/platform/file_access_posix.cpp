#include "platform/file_access.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

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

bool can_hard_link(const std::filesystem::path& target, const std::filesystem::path& dir)
{
    struct stat target_stat = {};
    struct stat dir_stat = {};
    return ::stat(target.c_str(), &target_stat) == 0 && ::stat(dir.c_str(), &dir_stat) == 0 && target_stat.st_dev == dir_stat.st_dev;
}

std::optional<uint64_t> name_count(const std::filesystem::path& file)
{
    struct stat file_stat = {};
    if (::stat(file.c_str(), &file_stat) != 0)
        return std::nullopt;
    return static_cast<uint64_t>(file_stat.st_nlink);
}

bool hard_link_if_same_volume(const std::filesystem::path& target, const std::filesystem::path& link)
{
    return can_hard_link(target, link.parent_path()) && ::link(target.c_str(), link.c_str()) == 0;
}

namespace {

// Closes a file descriptor when it goes.
struct Descriptor
{
    int value;
    ~Descriptor()
    {
        if (value >= 0)
            ::close(value);
    }
};

std::error_code last_error() { return {errno, std::generic_category()}; }

} // namespace

std::error_code copy_file_reporting(const std::filesystem::path& from, const std::filesystem::path& to,
                                    const std::function<bool(int64_t)>& progress)
{
    const Descriptor in{::open(from.c_str(), O_RDONLY | O_CLOEXEC)};
    if (in.value < 0)
        return last_error();
    Descriptor out{::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
    if (out.value < 0)
        return last_error();
    // Parts of 4 MB: progress and cancellation a few hundred times a second on a fast disk, and few system calls.
    std::vector<char> buffer(size_t(4) << 20);
    int64_t copied = 0;
    for (;;) {
        const ssize_t got = ::read(in.value, buffer.data(), buffer.size());
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return last_error();
        if (got == 0)
            break;
        for (ssize_t written = 0; written < got;) {
            const ssize_t put = ::write(out.value, buffer.data() + written, size_t(got - written));
            if (put < 0 && errno == EINTR)
                continue;
            if (put < 0)
                return last_error();
            written += put;
        }
        copied += got;
        if (progress && !progress(copied))
            return std::make_error_code(std::errc::operation_canceled);
    }
    // A full disk can surface only when the file is closed (network filesystems write back then).
    const int closed = ::close(out.value);
    out.value = -1;
    return closed == 0 ? std::error_code() : last_error();
}

} // namespace jarvis
