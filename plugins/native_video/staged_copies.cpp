#include "staged_copies.hpp"

namespace jarvis {
namespace {

namespace fs = std::filesystem;

// The video's identity as the kept copy records it: an edit changes its size or its time.
struct VideoState
{
    uintmax_t size = 0;
    fs::file_time_type modified;
};

std::optional<VideoState> state_of(const fs::path& video)
{
    std::error_code size_ec;
    std::error_code time_ec;
    VideoState state{fs::file_size(video, size_ec), fs::last_write_time(video, time_ec)};
    if (size_ec || time_ec)
        return std::nullopt;
    return state;
}

fs::path normal(const fs::path& path)
{
    std::error_code ec;
    const fs::path absolute = fs::absolute(path, ec);
    return (ec ? path : absolute).lexically_normal();
}

} // namespace

bool StagedCopies::still_matches(const fs::path& video, const fs::path& volume_root) const
{
    if (!kept_ || kept_->video != normal(video) || kept_->volume_root != normal(volume_root))
        return false;
    const auto now = state_of(video);
    if (!now || now->size != kept_->size || now->modified != kept_->modified)
        return false;
    // Someone may have emptied the staging folder.
    std::error_code ec;
    return fs::file_size(kept_->file->path(), ec) == kept_->size && !ec;
}

std::shared_ptr<const StagedFile> StagedCopies::kept_copy_of(const fs::path& video, const fs::path& volume_root) const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    return still_matches(video, volume_root) ? kept_->file : nullptr;
}

uintmax_t StagedCopies::bytes_freed_by_next_copy(const fs::path& volume_root) const
{
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!kept_ || kept_->volume_root != normal(volume_root) || kept_->file.use_count() > 1)
        return 0;
    return kept_->size;
}

StagedCopies::Staged StagedCopies::stage(const fs::path& video, const fs::path& volume_root, const std::function<bool(double)>& copying)
{
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (still_matches(video, volume_root))
            return {kept_->file, true};
        // Let go of the copy that no longer serves before a new one needs the room.
        kept_.reset();
    }
    // The video as it was when the copy began: an edit during the copy makes the next question copy again.
    const auto before = state_of(video);
    auto file = std::make_shared<const StagedFile>(video, volume_root, copying);
    if (!file->linked() && before) {
        const std::lock_guard<std::mutex> lock(mutex_);
        kept_ = Kept{normal(video), normal(volume_root), before->size, before->modified, file};
    }
    return {std::move(file), false};
}

std::shared_ptr<StagedCopies> shared_staged_copies()
{
    static std::mutex mutex;
    static std::weak_ptr<StagedCopies> shared;
    const std::lock_guard<std::mutex> lock(mutex);
    auto copies = shared.lock();
    if (!copies) {
        copies = std::make_shared<StagedCopies>();
        shared = copies;
    }
    return copies;
}

} // namespace jarvis
