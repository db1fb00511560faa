#include "avutil_data.hpp"

extern "C" {
#include <libavutil/log.h>
}

#include <link.h>

#include <utility>

namespace jarvis::ffmpeg_log {
namespace {

struct Search
{
    uintptr_t symbol = 0;
    std::vector<MemoryRange> writable;
};

int collect_segments(dl_phdr_info* info, size_t, void* data)
{
    auto* search = static_cast<Search*>(data);
    bool defines_symbol = false;
    std::vector<MemoryRange> writable;
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

std::vector<MemoryRange> avutil_writable_data()
{
    Search search;
    search.symbol = reinterpret_cast<uintptr_t>(&av_log_set_callback);
    dl_iterate_phdr(&collect_segments, &search);
    return search.writable;
}

LogCallback avutil_default_callback() { return &av_log_default_callback; }

} // namespace jarvis::ffmpeg_log
