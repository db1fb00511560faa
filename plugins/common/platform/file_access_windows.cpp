#include "platform/file_access.hpp"

#include <system_error>

#include <windows.h>

namespace jarvis {
namespace {

std::string last_error_text()
{
    return std::system_category().message(static_cast<int>(::GetLastError()));
}

// Closes a Windows handle when it goes.
struct Handle
{
    HANDLE value;
    ~Handle()
    {
        if (value != INVALID_HANDLE_VALUE)
            ::CloseHandle(value);
    }
};

} // namespace

std::optional<std::string> cannot_read(const std::filesystem::path& file)
{
    const Handle h{::CreateFileW(file.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                                 OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr)};
    if (h.value == INVALID_HANDLE_VALUE)
        return last_error_text();
    return std::nullopt;
}

// Windows decides by access control lists, which no attribute shows: the honest test is to create a file, which
// the system deletes again when its handle closes.
std::optional<std::string> cannot_write_into(const std::filesystem::path& dir)
{
    const std::filesystem::path probe = dir / L".jarvis-write-test.tmp";
    const Handle h{::CreateFileW(probe.c_str(), GENERIC_WRITE, FILE_SHARE_DELETE, nullptr, CREATE_NEW,
                                 FILE_ATTRIBUTE_TEMPORARY | FILE_FLAG_DELETE_ON_CLOSE, nullptr)};
    if (h.value == INVALID_HANDLE_VALUE && ::GetLastError() != ERROR_FILE_EXISTS)
        return last_error_text();
    return std::nullopt;
}

// CreateHardLinkW refuses links across volumes (ERROR_NOT_SAME_DEVICE) by itself.
bool hard_link_if_same_volume(const std::filesystem::path& target, const std::filesystem::path& link)
{
    return ::CreateHardLinkW(link.c_str(), target.c_str(), nullptr) != 0;
}

} // namespace jarvis
