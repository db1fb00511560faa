#include "callback_finder.hpp"

#include "avutil_data.hpp"

#include <cstdint>
#include <utility>
#include <vector>

namespace jarvis::ffmpeg_log {

void sentinel(void*, int, const char*, va_list) {}

LogCallback replace_with_sentinel_and_find_previous()
{
    std::vector<std::pair<const uintptr_t*, uintptr_t>> before;
    for (const MemoryRange& s : avutil_writable_data())
        for (uintptr_t a = (s.start + sizeof(uintptr_t) - 1) & ~(sizeof(uintptr_t) - 1); a + sizeof(uintptr_t) <= s.end; a += sizeof(uintptr_t))
            before.emplace_back(reinterpret_cast<const uintptr_t*>(a), *reinterpret_cast<const volatile uintptr_t*>(a));

    av_log_set_callback(&sentinel);
    const auto sentinel_word = reinterpret_cast<uintptr_t>(&sentinel);
    uintptr_t previous = 0;
    int changed = 0;
    for (const auto& [address, value] : before)
        if (value != sentinel_word && *reinterpret_cast<const volatile uintptr_t*>(address) == sentinel_word) {
            previous = value;
            ++changed;
        }
    if (changed != 1 || previous == 0)
        return avutil_default_callback();
    return reinterpret_cast<LogCallback>(previous);
}

} // namespace jarvis::ffmpeg_log
