#pragma once

#include <cstdint>
#include <string>

namespace jarvis {

int64_t current_process_id();

// This machine's name as the system gives it (empty when it gives none): process ids are only comparable on one machine.
std::string machine_name();

// Whether a process with this id runs on this machine now. Ids are reused, so a true may be another program;
// a false is certain (the writer of a file named after it is gone).
bool process_is_running(int64_t pid);

} // namespace jarvis
