#pragma once

#include "staged_file.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace jarvis {

// The last video copied into the shared volume, kept for the follow-up questions about it: with
// conversation.media=resend (the default) the server reads the video at every turn, and a 10 GB recording on another
// drive takes a minute or more to copy. One copy is kept at most: another video's copy replaces it, a video edited
// since is copied afresh, and a copy removed by someone else is made again. Hard links are not kept: they cost
// nothing to make. A copy still in use by a request outlives its replacement until that request ends.
class StagedCopies
{
public:
    StagedCopies() = default;
    StagedCopies(const StagedCopies&) = delete;
    StagedCopies& operator=(const StagedCopies&) = delete;

    struct Staged
    {
        std::shared_ptr<const StagedFile> file;
        bool reused = false; // the copy made for an earlier question
    };

    // `video` in the volume at `volume_root`: the kept copy when it is still the video's, else staged now (StagedFile's
    // constructor: its progress, cancellation and errors).
    Staged stage(const std::filesystem::path& video, const std::filesystem::path& volume_root,
                 const std::function<bool(double fraction)>& copying = {});

    // The kept copy of `video`, as it is now, in the volume at `volume_root`, or null (what a plan says ask would use).
    std::shared_ptr<const StagedFile> kept_copy_of(const std::filesystem::path& video, const std::filesystem::path& volume_root) const;

    // The room in the volume at `volume_root` that staging another video frees first: the kept copy's size, unless a
    // request still uses that copy (it then stays until the request ends) or it is in another volume.
    uintmax_t bytes_freed_by_next_copy(const std::filesystem::path& volume_root) const;

private:
    struct Kept
    {
        std::filesystem::path video;
        std::filesystem::path volume_root;
        uintmax_t size = 0;
        std::filesystem::file_time_type modified;
        std::shared_ptr<const StagedFile> file;
    };
    // Called with mutex_ held.
    bool still_matches(const std::filesystem::path& video, const std::filesystem::path& volume_root) const;

    mutable std::mutex mutex_;
    std::optional<Kept> kept_;
};

// The keeper every native_video provider of this process shares, so that a follow-up asked through another provider
// finds the copy too. It lives while a provider holds it: the copy is removed when the last provider closes (or the
// process ends; a killed process's copy goes with the next staging).
std::shared_ptr<StagedCopies> shared_staged_copies();

} // namespace jarvis
