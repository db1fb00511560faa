#include "platform/process_identity.hpp"

#include <cerrno>
#include <csignal>
#include <unistd.h>

namespace jarvis {

std::string machine_name()
{
    char name[256] = {};
    if (::gethostname(name, sizeof(name) - 1) != 0)
        return {};
    return name;
}

int64_t current_process_id() { return static_cast<int64_t>(::getpid()); }

bool process_is_running(int64_t pid)
{
    if (pid <= 0 || pid != static_cast<int64_t>(static_cast<pid_t>(pid)))
        return false;
    // Signal 0 checks without sending; EPERM is a process of another user, which runs all the same.
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

} // namespace jarvis
