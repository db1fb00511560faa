#include "core/media_part_cache.hpp"

#include <list>
#include <mutex>
#include <utility>

namespace jarvis {
namespace {

struct Entry
{
    std::string key;
    std::shared_ptr<const CachedMedia> media;
};

std::mutex cache_mutex;
std::list<Entry> entries; // most recently used first
size_t total_bytes = 0;

} // namespace

std::shared_ptr<const CachedMedia> find_cached_media(const std::string& media_key)
{
    std::lock_guard lock(cache_mutex);
    for (auto it = entries.begin(); it != entries.end(); ++it)
        if (it->key == media_key) {
            entries.splice(entries.begin(), entries, it);
            return it->media;
        }
    return nullptr;
}

void cache_media(const std::string& media_key, std::shared_ptr<const CachedMedia> media, int64_t capacity_bytes)
{
    std::lock_guard lock(cache_mutex);
    for (auto it = entries.begin(); it != entries.end(); ++it)
        if (it->key == media_key) {
            total_bytes -= it->media->bytes;
            entries.erase(it);
            break;
        }
    if (capacity_bytes <= 0 || media->bytes > static_cast<size_t>(capacity_bytes))
        return;
    total_bytes += media->bytes;
    entries.push_front({media_key, std::move(media)});
    while (total_bytes > static_cast<size_t>(capacity_bytes)) {
        total_bytes -= entries.back().media->bytes;
        entries.pop_back();
    }
}

} // namespace jarvis
