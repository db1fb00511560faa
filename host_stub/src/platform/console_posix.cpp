#include "platform/console.hpp"

#include <csignal>
#include <unistd.h>

namespace jarvis::host {
namespace {

std::atomic<bool>* interrupt_flag = nullptr;

void on_sigint(int)
{
    if (interrupt_flag != nullptr)
        interrupt_flag->store(true);
}

} // namespace

std::vector<std::string> utf8_arguments(int argc, char** argv) { return std::vector<std::string>(argv + 1, argv + argc); }

void set_flag_on_interrupt(std::atomic<bool>& flag)
{
    interrupt_flag = &flag;
    struct sigaction action = {};
    action.sa_handler = &on_sigint;
    sigemptyset(&action.sa_mask);
    // Ended from outside (a service stop, a closed terminal): cancelled the same way, so that staged files and
    // downloads are removed before the process exits.
    for (const int signal : {SIGINT, SIGTERM, SIGHUP})
        sigaction(signal, &action, nullptr);
}

void use_utf8_output() {}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

} // namespace jarvis::host
