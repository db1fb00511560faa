#pragma once

extern "C" {
#include <libavutil/log.h>
}

#include "avutil_data.hpp"

#include <cstdarg>

namespace jarvis::ffmpeg_log {


// FFmpeg can set its log callback but not say which one is set. To put back what a host had installed (PyAV sets
// its own), the callback in force is found by setting a sentinel and seeing which word of libavutil's writable data
// changed to it: that word's earlier value is the callback that was there. Leaves the sentinel installed; returns
// FFmpeg's default callback when the word cannot be told apart (then nothing better is known).
LogCallback replace_with_sentinel_and_find_previous();

// The no-op installed by replace_with_sentinel_and_find_previous().
void sentinel(void*, int, const char*, va_list);

} // namespace jarvis::ffmpeg_log
