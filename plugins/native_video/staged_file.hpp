#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace jarvis {

// A video placed into the shared volume for one request, removed when the object goes (after success, error or
// cancellation alike). It goes to <volume>/.jarvis-staging/ under a safe ASCII name: a hard link when the video is
// on the volume's filesystem (instant), else a copy written under a temporary name and renamed when complete, so
// the server never sees half a file. What killed processes left (their names carry the writer: platform/owned_files.hpp)
// is removed on the way.
class StagedFile
{
public:
    // A copy tells `copying` the fraction written (a 10 GB recording takes a minute or more), and stops when it returns
    // false: MediaCancelled, nothing left behind. Throws ConfigError when the volume is missing or not writable, or has
    // no room for a copy, and when the copy fails.
    StagedFile(const std::filesystem::path& video, const std::filesystem::path& volume_root,
               const std::function<bool(double fraction)>& copying = {});
    ~StagedFile();
    StagedFile(const StagedFile&) = delete;
    StagedFile& operator=(const StagedFile&) = delete;

    // Path relative to the volume root, e.g. ".jarvis-staging/jarvis-p4242-m1f2e3d4c-912873-0-my_clip.mp4".
    const std::string& relative_path() const { return relative_; }
    const std::filesystem::path& path() const { return path_; }
    bool linked() const { return linked_; }

    // The name a video would be staged under, without staging it (for plan, which has no side effects).
    static std::string preview_relative_path(const std::filesystem::path& video);

private:
    std::filesystem::path path_;
    std::string relative_;
    bool linked_ = false;
};

// Whether staging `video` into the volume at `volume_root` copies it (it is on another volume: another drive, or a
// filesystem without hard links) rather than linking it: what delivery=auto counts as the file delivery's cost.
bool staging_copies(const std::filesystem::path& video, const std::filesystem::path& volume_root);

// Why `video` cannot be staged into the volume at `volume_root` (missing, not a folder, not writable, too little room
// for a copy), or nothing when it can. `released_bytes` is room the copy gets beside what is free now (the copy kept
// for an earlier question, which the next copy replaces). No side effects: plan and ask get the same answer.
std::optional<std::string> staging_problem(const std::filesystem::path& volume_root, const std::filesystem::path& video,
                                           uintmax_t released_bytes = 0);

// "4.2 GB", "150 MB", "0.3 MB": a size as a user compares it with what Explorer or df shows.
std::string readable_size(uintmax_t bytes);

// An unguessable token: `bits` random bits as lower-case hex.
std::string random_token(int bits = 128);

// A file name that survives every filesystem and URL: ASCII letters, digits, '-', '_' and '.', at most 48 bytes,
// extension kept.
std::string safe_file_name(const std::filesystem::path& name);

} // namespace jarvis
