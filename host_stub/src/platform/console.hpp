#pragma once

#include <atomic>
#include <string>
#include <vector>

namespace jarvis::host {

// The command line as UTF-8 (Windows hands narrow programs their arguments in the ANSI code page, which loses
// "Łukasz" and "漢字"; its UTF-16 command line has them).
std::vector<std::string> utf8_arguments(int argc, char** argv);

// Ctrl-C and an end from outside (SIGINT, SIGTERM, SIGHUP; the Windows console's Ctrl-C and Ctrl-Break, its window
// closed, a logoff or shutdown) set `flag` instead of ending the process, so that a running call is cancelled and
// cleans up.
void set_flag_on_interrupt(std::atomic<bool>& flag);

// stdout and stderr carry UTF-8 bytes as they are (no code-page or newline translation).
void use_utf8_output();

bool stderr_is_terminal();

} // namespace jarvis::host
