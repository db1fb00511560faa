#include "callback_finder.hpp"

#include <dlfcn.h>
#include <link.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace jarvis::ffmpeg_log {
namespace {

struct Segment
{
    uintptr_t start = 0;
    uintptr_t end = 0;
};

struct Search
{
    uintptr_t symbol = 0;
    std::vector<Segment> writable;
};

// The writable PT_LOAD segments of the object that defines `symbol` (libavutil).
int collect_segments(dl_phdr_info* info, size_t, void* data)
{
    auto* search = static_cast<Search*>(data);
    bool defines_symbol = false;
    std::vector<Segment> writable;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_LOAD)
            continue;
        const uintptr_t start = info->dlpi_addr + ph.p_vaddr;
        const uintptr_t end = start + ph.p_memsz;
        if (search->symbol >= start && search->symbol < end)
            defines_symbol = true;
        if ((ph.p_flags & PF_W) != 0)
            writable.push_back({start, end});
    }
    if (!defines_symbol)
        return 0;
    search->writable = std::move(writable);
    return 1; // found: stop iterating
}

} // namespace

void sentinel(void*, int, const char*, va_list) {}

LogCallback replace_with_sentinel_and_find_previous()
{
    Search search;
    search.symbol = reinterpret_cast<uintptr_t>(&av_log_set_callback);
    dl_iterate_phdr(&collect_segments, &search);

    std::vector<std::pair<const uintptr_t*, uintptr_t>> before;
    for (const Segment& s : search.writable)
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
        return &av_log_default_callback;
    return reinterpret_cast<LogCallback>(previous);
}

} // namespace jarvis::ffmpeg_log
