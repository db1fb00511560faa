#pragma once

#include "log/plugin_log.hpp"

#include <ffmpeg_log_owner.h>

#include <string>

namespace jarvis {

// FFmpeg logs through one process-wide callback, which by default writes to stderr, where plugins must not. While
// any provider of any jarvis-vision plugin lives, the shared owner (ffmpeg_log_owner.h) forwards FFmpeg's lines to
// the log of the call running on the same thread (FfmpegLogScope); other threads' lines go to the callback the host
// had, or nowhere. The last error line of a thread is kept, because it often says more than the return code.
class FfmpegLogRoute
{
public:
    FfmpegLogRoute() { jv_ffmpeg_log_acquire(); }
    ~FfmpegLogRoute() { jv_ffmpeg_log_release(); } // the last one restores what the first one found
    FfmpegLogRoute(const FfmpegLogRoute&) = delete;
    FfmpegLogRoute& operator=(const FfmpegLogRoute&) = delete;
};

// Routes FFmpeg's lines on this thread to `log` for the scope's lifetime.
class FfmpegLogScope
{
public:
    explicit FfmpegLogScope(const PluginLog& log);
    ~FfmpegLogScope() { jv_ffmpeg_log_set_route(previous_); }
    FfmpegLogScope(const FfmpegLogScope&) = delete;
    FfmpegLogScope& operator=(const FfmpegLogScope&) = delete;

private:
    jv_ffmpeg_route previous_;
};

// The last error FFmpeg logged on this thread (empty if none); reading it clears it.
std::string take_last_ffmpeg_error();

} // namespace jarvis
