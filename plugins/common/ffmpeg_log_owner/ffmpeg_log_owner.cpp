#define JV_FFMPEG_LOG_BUILDING
#include "ffmpeg_log_owner.h"

#include "callback_finder.hpp"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace {

using jarvis::ffmpeg_log::avutil_default_callback;
using jarvis::ffmpeg_log::LogCallback;

std::mutex owner_mutex;
int users = 0;
// What was installed before the forwarder; read by the forwarder on any thread while acquire and release write it,
// hence atomic.
// (Wrapped in a struct: mingw's va_list carries attributes that a template argument would drop, with a warning.)
struct SavedCallback
{
    LogCallback fn;
};
std::atomic<SavedCallback> found_before{SavedCallback{nullptr}};

// Plain data only: a thread_local with a destructor would keep this library loaded until every thread that
// touched it has exited (glibc), and plugins must unload cleanly.
thread_local jv_ffmpeg_route route = {nullptr, nullptr};
thread_local char last_error[512];

// Formats one line without its newline; returns its length.
size_t format_line(void* avcl, int level, const char* format, va_list args, char (&line)[1024])
{
    va_list copy;
    va_copy(copy, args);
    int print_prefix = 1;
    av_log_format_line2(avcl, level, format, copy, line, sizeof line, &print_prefix);
    va_end(copy);
    size_t n = std::strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return n;
}

void forward(void* avcl, int level, const char* format, va_list args)
{
    char line[1024];
    size_t n = 0;
    if (level <= AV_LOG_ERROR || (route.fn != nullptr && level <= av_log_get_level())) {
        n = format_line(avcl, level, format, args, line);
        if (level <= AV_LOG_ERROR && n > 0) {
            // Kept per thread without FFmpeg's "[mov,mp4 @ 0x...] " prefix: it often says more than the return
            // code ("moov atom not found").
            const char* bracket = line[0] == '[' ? std::strstr(line, "] ") : nullptr;
            std::snprintf(last_error, sizeof last_error, "%.511s", bracket != nullptr ? bracket + 2 : line);
        }
    }
    if (route.fn == nullptr) {
        // Not a plugin call's line: it belongs to whoever had the callback before (the host), never to stderr.
        const LogCallback before = found_before.load().fn;
        if (before != nullptr && before != avutil_default_callback())
            before(avcl, level, format, args);
        return;
    }
    if (n > 0)
        route.fn(route.context, level, line);
}

} // namespace

extern "C" {

void jv_ffmpeg_log_acquire(void)
{
    std::lock_guard lock(owner_mutex);
    if (users++ == 0) {
        found_before = SavedCallback{jarvis::ffmpeg_log::replace_with_sentinel_and_find_previous()};
        av_log_set_callback(&forward);
    }
}

void jv_ffmpeg_log_release(void)
{
    std::lock_guard lock(owner_mutex);
    if (users > 0 && --users == 0) {
        const LogCallback before = found_before.exchange(SavedCallback{nullptr}).fn;
        av_log_set_callback(before != nullptr ? before : avutil_default_callback());
    }
}

jv_ffmpeg_route jv_ffmpeg_log_set_route(jv_ffmpeg_route next)
{
    const jv_ffmpeg_route previous = route;
    route = next;
    return previous;
}

size_t jv_ffmpeg_log_take_last_error(char* buffer, size_t size)
{
    const size_t n = std::strlen(last_error);
    if (buffer != nullptr && size > 0)
        std::snprintf(buffer, size, "%s", last_error);
    last_error[0] = '\0';
    return n;
}

} // extern "C"
