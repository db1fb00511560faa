#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace jarvis::test {

// Added to the signal number for a process that was killed rather than exiting (exit statuses are 0..255).
inline constexpr int killed_by_signal = 1000;


struct ProcessResult
{
    int exit_code = -1; // the process's exit status, or killed_by_signal + signal: never taken for an exit(130)
    std::string out;
    std::string err;
    bool timed_out = false;
};

// This process's environment plus `extra` ("NAME=value" entries), as posix_spawn takes it; `storage` owns the text.
std::vector<char*> environment_with(const std::vector<std::string>& extra, std::vector<std::string>& storage);

// Runs a program (no shell), captures stdout and stderr, kills it after `timeout`.
ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::seconds(60),
                          const std::vector<std::string>& extra_env = {});

} // namespace jarvis::test
