#pragma once

#include <cstdarg>
#include <cstdint>
#include <vector>

namespace jarvis::ffmpeg_log {

// One writable range of memory, [start, end).
struct MemoryRange
{
    uintptr_t start = 0;
    uintptr_t end = 0;
};

// The writable data of the loaded libavutil, where it keeps its log callback: the ELF PT_LOAD segments or the PE
// sections of the library that defines av_log_set_callback. Empty when it cannot be found.
std::vector<MemoryRange> avutil_writable_data();

using LogCallback = void (*)(void*, int, const char*, va_list);

// FFmpeg's own av_log_default_callback, at its address inside libavutil (on Windows, &av_log_default_callback
// here would be this library's import thunk, which compares unequal to the value libavutil stores).
LogCallback avutil_default_callback();

} // namespace jarvis::ffmpeg_log
