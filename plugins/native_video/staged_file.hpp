#pragma once

#include <filesystem>
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
    // Throws ConfigError when the volume is missing or not writable, MediaError when the video cannot be read.
    StagedFile(const std::filesystem::path& video, const std::filesystem::path& volume_root);
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

// Why videos cannot be staged into the volume at `volume_root` (missing, not a folder, not writable), or nothing
// when they can. No side effects: plan and ask ask the same question and get the same answer.
std::optional<std::string> staging_problem(const std::filesystem::path& volume_root);

// An unguessable token: `bits` random bits as lower-case hex.
std::string random_token(int bits = 128);

// A file name that survives every filesystem and URL: ASCII letters, digits, '-', '_' and '.', at most 48 bytes,
// extension kept.
std::string safe_file_name(const std::filesystem::path& name);

} // namespace jarvis
