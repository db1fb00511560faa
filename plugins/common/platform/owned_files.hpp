#pragma once

// Temporary files that their process cannot remove when it is killed (SIGKILL, a crash, Task Manager, a closed console
// window): a URL's downloaded copy, probe videos. Each is named after the machine and the process writing it, so that
// the next process making one removes those whose writer is gone, instead of letting gigabytes pile up.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string_view>

namespace jarvis {

// A new name in `dir`: `prefix`, then this machine's and process's marks and a random part, then `suffix`. Nothing
// is created.
std::filesystem::path owned_file_path(const std::filesystem::path& dir, std::string_view prefix, std::string_view suffix);

struct AbandonRules
{
    // A file whose writer (on this machine) is gone stays this long after its last write: a process of the same
    // machine name in another process-id namespace (a container sharing the folder) may still be writing it.
    std::chrono::seconds dead_writer_grace{60};
    // Any file of `prefix` unwritten this long goes, whoever wrote it (another machine on a shared folder, an id
    // reused by another program, a name from before owners were marked), except this process's own and a hard link
    // of a running writer of this machine (a link has the time of the video it names, not of its staging).
    std::chrono::hours unwritten_limit{24};
};

// Removes the regular files in `dir` whose name starts with `prefix` and whose writer is gone by `rules`; returns how
// many. Errors (a file in use on Windows, a folder it may not list) leave the file: this is tidying, never a failure.
size_t remove_abandoned_files(const std::filesystem::path& dir, std::string_view prefix, const AbandonRules& rules = {});

} // namespace jarvis
