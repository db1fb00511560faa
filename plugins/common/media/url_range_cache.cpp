#include "media/url_range_cache.hpp"

#include <algorithm>
#include <climits>
#include <cstring>

namespace jarvis {

size_t UrlRangeCache::read(int64_t offset, uint8_t* out, size_t size) const
{
    const std::lock_guard lock(mutex_);
    auto run = runs_.upper_bound(offset);
    if (run == runs_.begin())
        return 0;
    --run;
    const int64_t end = run->first + static_cast<int64_t>(run->second.size());
    if (offset >= end)
        return 0;
    const size_t n = std::min(size, static_cast<size_t>(end - offset));
    std::memcpy(out, run->second.data() + (offset - run->first), n);
    return n;
}

int64_t UrlRangeCache::next_cached_after(int64_t offset) const
{
    const std::lock_guard lock(mutex_);
    const auto run = runs_.upper_bound(offset);
    return run == runs_.end() ? INT64_MAX : run->first;
}

void UrlRangeCache::store(int64_t offset, const uint8_t* data, size_t size)
{
    const std::lock_guard lock(mutex_);
    const int64_t end = offset + static_cast<int64_t>(size);
    int64_t at = offset;
    while (at < end && held_ < capacity_) {
        // Skip what a run holds already; keep the gap up to the next run.
        auto run = runs_.upper_bound(at);
        if (run != runs_.begin()) {
            const auto before = std::prev(run);
            const int64_t before_end = before->first + static_cast<int64_t>(before->second.size());
            if (before_end > at) {
                at = before_end;
                continue;
            }
        }
        const int64_t gap_end = std::min(end, run == runs_.end() ? end : run->first);
        const size_t n = std::min(static_cast<size_t>(gap_end - at), capacity_ - held_);
        runs_.emplace(at, std::string(reinterpret_cast<const char*>(data + (at - offset)), n));
        held_ += n;
        at += static_cast<int64_t>(n);
    }
}

size_t UrlRangeCache::bytes_held() const
{
    const std::lock_guard lock(mutex_);
    return held_;
}

} // namespace jarvis
