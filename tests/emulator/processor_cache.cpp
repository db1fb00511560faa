#include "processor_cache.hpp"

#include <algorithm>

namespace jarvis::emulator {
namespace {

// Qwen3-VL's processor keeps float32 pixel values: each visual token stands for 2x2 merged patches of
// 2x16x16x3 values.
constexpr uint64_t bytes_per_visual_token = 4 * 2 * 16 * 16 * 3 * 4;

} // namespace

ProcessorCache::ProcessorCache(double capacity_gb) : capacity_bytes_(static_cast<uint64_t>(capacity_gb * (1ULL << 30))) {}

std::optional<ProcessorCache::Item> ProcessorCache::find(const std::string& key)
{
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
        if (it->key == key) {
            entries_.splice(entries_.begin(), entries_, it);
            return it->item;
        }
    return std::nullopt;
}

void ProcessorCache::store(const std::string& key, Item item)
{
    if (!enabled())
        return;
    std::lock_guard lock(mutex_);
    const uint64_t bytes = static_cast<uint64_t>(std::max<int64_t>(item.tokens, 1)) * bytes_per_visual_token;
    if (bytes > capacity_bytes_)
        return;
    entries_.remove_if([&](const Entry& e) {
        if (e.key != key)
            return false;
        total_bytes_ -= e.bytes;
        return true;
    });
    entries_.push_front({key, std::move(item), bytes});
    total_bytes_ += bytes;
    while (total_bytes_ > capacity_bytes_) {
        total_bytes_ -= entries_.back().bytes;
        entries_.pop_back();
    }
}

PrefixTracker::Shared PrefixTracker::shared_with_previous(std::vector<Piece> pieces)
{
    std::lock_guard lock(mutex_);
    int64_t shared = 0;
    int64_t previous_total = 0;
    for (const Piece& p : previous_)
        previous_total += p.tokens;
    for (size_t i = 0; i < pieces.size() && i < previous_.size(); ++i) {
        if (pieces[i].key == previous_[i].key) {
            shared += pieces[i].tokens;
            continue;
        }
        // Text that starts alike shares its common start (about 4 bytes a token).
        const std::string& a = pieces[i].key;
        const std::string& b = previous_[i].key;
        if (a.rfind("text:", 0) == 0 && b.rfind("text:", 0) == 0) {
            const auto common = std::mismatch(a.begin() + 5, a.end(), b.begin() + 5, b.end()).first - (a.begin() + 5);
            shared += static_cast<int64_t>(common) / 4;
        }
        break;
    }
    previous_ = std::move(pieces);
    return {shared, previous_total};
}

} // namespace jarvis::emulator
