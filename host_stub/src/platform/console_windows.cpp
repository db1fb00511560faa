#include "platform/console.hpp"

#include <cstdio>
#include <fcntl.h>
#include <io.h>

#include <windows.h>

#include <shellapi.h>

namespace jarvis::host {
namespace {

std::atomic<bool>* interrupt_flag = nullptr;

// Runs on a thread the console starts; TRUE means handled, so the process is not ended.
BOOL WINAPI on_console_event(DWORD event)
{
    if (interrupt_flag == nullptr)
        return FALSE;
    if (event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT) {
        interrupt_flag->store(true);
        return TRUE;
    }
    if (event == CTRL_CLOSE_EVENT || event == CTRL_LOGOFF_EVENT || event == CTRL_SHUTDOWN_EVENT) {
        // The console window closed, or the session ends (SIGHUP and SIGTERM elsewhere). Windows ends the process as
        // soon as this returns, so it does not: the call is cancelled and main returns, which ends the process with
        // staged files and downloads removed. Windows' own limit (5 s for a closed window) still applies.
        interrupt_flag->store(true);
        ::Sleep(30'000);
        return TRUE;
    }
    return FALSE;
}

std::string to_utf8(const wchar_t* wide)
{
    const int bytes = ::WideCharToMultiByte(CP_UTF8, 0, wide, -1, nullptr, 0, nullptr, nullptr);
    if (bytes <= 1)
        return {};
    std::string out(static_cast<size_t>(bytes - 1), '\0');
    ::WideCharToMultiByte(CP_UTF8, 0, wide, -1, out.data(), bytes, nullptr, nullptr);
    return out;
}

} // namespace

std::vector<std::string> utf8_arguments(int, char**)
{
    int count = 0;
    wchar_t** wide = ::CommandLineToArgvW(::GetCommandLineW(), &count);
    std::vector<std::string> args;
    for (int i = 1; wide != nullptr && i < count; ++i)
        args.push_back(to_utf8(wide[i]));
    ::LocalFree(wide);
    return args;
}

void set_flag_on_interrupt(std::atomic<bool>& flag)
{
    interrupt_flag = &flag;
    ::SetConsoleCtrlHandler(&on_console_event, TRUE);
}

void use_utf8_output()
{
    ::SetConsoleOutputCP(CP_UTF8);
    _setmode(_fileno(stdout), _O_BINARY);
    _setmode(_fileno(stderr), _O_BINARY);
}

bool stderr_is_terminal() { return _isatty(_fileno(stderr)) != 0; }

} // namespace jarvis::host
