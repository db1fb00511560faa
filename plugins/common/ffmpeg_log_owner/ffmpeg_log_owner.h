/*
 * The one owner of FFmpeg's process-wide log callback, shared by every jarvis-vision plugin in a process.
 *
 * av_log_set_callback() is global, while each plugin links its own copy of the media code: two plugins each
 * installing and restoring the callback undo each other (a native_video provider going away while a frame_slicer
 * provider lives sent FFmpeg's lines to stderr and lost its error messages), and restoring FFmpeg's default loses
 * a callback the host had set (PyAV's). This small shared library is loaded once per process by name, so its
 * state is shared: the first acquire saves the callback it finds and installs a forwarder, the last release puts
 * the saved one back. Plain C, because plugins built by different compilers share it.
 */
#ifndef JARVIS_FFMPEG_LOG_OWNER_H
#define JARVIS_FFMPEG_LOG_OWNER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(JV_FFMPEG_LOG_BUILDING)
#define JV_FFMPEG_LOG_API __declspec(dllexport)
#elif defined(_WIN32)
#define JV_FFMPEG_LOG_API __declspec(dllimport)
#else
#define JV_FFMPEG_LOG_API __attribute__((visibility("default")))
#endif

/* Receives one FFmpeg line (without its newline) for the thread's current route. */
typedef void (*jv_ffmpeg_line_fn)(void *context, int level, const char *line);

typedef struct jv_ffmpeg_route {
    jv_ffmpeg_line_fn fn; /* NULL: no route */
    void *context;
} jv_ffmpeg_route;

/* Counted: the first acquire installs the forwarder, the last release restores the callback found before it. */
JV_FFMPEG_LOG_API void jv_ffmpeg_log_acquire(void);
JV_FFMPEG_LOG_API void jv_ffmpeg_log_release(void);

/* Routes this thread's FFmpeg lines to `route` and returns the previous route, to be restored by the caller.
 * Lines on threads without a route go to the callback found before the forwarder, unless that was FFmpeg's own
 * (which writes to stderr, where plugins must not): then they are dropped. */
JV_FFMPEG_LOG_API jv_ffmpeg_route jv_ffmpeg_log_set_route(jv_ffmpeg_route route);

/* Copies the last error line FFmpeg logged on this thread (without FFmpeg's "[ctx @ 0x...] " prefix) into buffer,
 * NUL-terminated, clears it, and returns its length (0 if none). */
JV_FFMPEG_LOG_API size_t jv_ffmpeg_log_take_last_error(char *buffer, size_t size);

#ifdef __cplusplus
}
#endif

#endif
