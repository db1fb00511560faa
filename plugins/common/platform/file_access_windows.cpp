#include "platform/file_access.hpp"

#include <string>
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

// Attributes only (no read access asked, so a video open in a player does not stand in the way); a folder opens with
// backup semantics.
Handle open_attributes(const std::filesystem::path& p)
{
    return Handle{::CreateFileW(p.c_str(), FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                                OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr)};
}

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

bool can_hard_link(const std::filesystem::path& target, const std::filesystem::path& dir)
{
    const Handle file = open_attributes(target);
    const Handle folder = open_attributes(dir);
    BY_HANDLE_FILE_INFORMATION file_info{};
    BY_HANDLE_FILE_INFORMATION folder_info{};
    if (file.value == INVALID_HANDLE_VALUE || folder.value == INVALID_HANDLE_VALUE || !::GetFileInformationByHandle(file.value, &file_info) ||
        !::GetFileInformationByHandle(folder.value, &folder_info) || file_info.dwVolumeSerialNumber != folder_info.dwVolumeSerialNumber)
        return false;
    // FAT and exFAT (USB sticks, SD cards) have no hard links. Judged by the filesystem's name, not by the flag
    // FILE_SUPPORTS_HARD_LINKS, which Wine leaves out although it makes links.
    wchar_t filesystem[MAX_PATH + 1] = {};
    if (!::GetVolumeInformationByHandleW(folder.value, nullptr, 0, nullptr, nullptr, nullptr, filesystem, MAX_PATH + 1))
        return true;
    const std::wstring name = filesystem;
    return name != L"FAT" && name != L"FAT32" && name != L"exFAT";
}

std::optional<uint64_t> name_count(const std::filesystem::path& file)
{
    const Handle h = open_attributes(file);
    BY_HANDLE_FILE_INFORMATION info{};
    if (h.value == INVALID_HANDLE_VALUE || !::GetFileInformationByHandle(h.value, &info))
        return std::nullopt;
    return static_cast<uint64_t>(info.nNumberOfLinks);
}

namespace {

DWORD CALLBACK copy_progress(LARGE_INTEGER, LARGE_INTEGER transferred, LARGE_INTEGER, LARGE_INTEGER, DWORD, DWORD, HANDLE, HANDLE, LPVOID data)
{
    const auto& progress = *static_cast<const std::function<bool(int64_t)>*>(data);
    return progress && !progress(transferred.QuadPart) ? PROGRESS_CANCEL : PROGRESS_CONTINUE;
}

} // namespace

// CopyFileExW copies as Explorer does (the system's buffering, sparse files and attributes kept) and asks the
// routine between parts; cancelled, it removes what it wrote.
std::error_code copy_file_reporting(const std::filesystem::path& from, const std::filesystem::path& to,
                                    const std::function<bool(int64_t)>& progress)
{
    if (::CopyFileExW(from.c_str(), to.c_str(), &copy_progress, const_cast<std::function<bool(int64_t)>*>(&progress), nullptr, 0))
        return {};
    const DWORD error = ::GetLastError();
    if (error == ERROR_REQUEST_ABORTED)
        return std::make_error_code(std::errc::operation_canceled);
    return {static_cast<int>(error), std::system_category()};
}

// CreateHardLinkW refuses links across volumes (ERROR_NOT_SAME_DEVICE) by itself.
bool hard_link_if_same_volume(const std::filesystem::path& target, const std::filesystem::path& link)
{
    return ::CreateHardLinkW(link.c_str(), target.c_str(), nullptr) != 0;
}

} // namespace jarvis
