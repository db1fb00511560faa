#include "platform/process_identity.hpp"

#include <windows.h>

namespace jarvis {

std::string machine_name()
{
    wchar_t wide[MAX_COMPUTERNAME_LENGTH + 1] = {};
    DWORD length = MAX_COMPUTERNAME_LENGTH + 1;
    if (!::GetComputerNameW(wide, &length))
        return {};
    std::string name;
    for (DWORD i = 0; i < length; ++i) { // only compared, never shown: each UTF-16 unit's two bytes will do
        name += static_cast<char>(wide[i] & 0xff);
        name += static_cast<char>(wide[i] >> 8);
    }
    return name;
}

int64_t current_process_id() { return static_cast<int64_t>(::GetCurrentProcessId()); }

bool process_is_running(int64_t pid)
{
    if (pid <= 0 || pid > static_cast<int64_t>(MAXDWORD))
        return false;
    HANDLE process = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
    if (process == nullptr)
        return ::GetLastError() == ERROR_ACCESS_DENIED; // a protected process, which runs all the same
    // A handle outlives the process it names (someone still holds one): only its exit code tells.
    DWORD code = 0;
    const bool running = ::GetExitCodeProcess(process, &code) != 0 && code == STILL_ACTIVE;
    ::CloseHandle(process);
    return running;
}

} // namespace jarvis
