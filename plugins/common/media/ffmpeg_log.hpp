#pragma once

#include "core/plugin_log.hpp"

#include <string>

namespace jarvis {

// FFmpeg logs through one process-wide callback, which by default writes to stderr. Plugins must not write there,
// so while any provider of this plugin lives, FFmpeg's lines go to the log of the call running on the same thread
// (FfmpegLogScope), and are dropped on threads that run no call. The last error line of a thread is kept, because
// it often says more than the return code ("moov atom not found").
class FfmpegLogRoute
{
public:
    FfmpegLogRoute();  // installs the callback for the first provider
    ~FfmpegLogRoute(); // restores FFmpeg's default callback when the last provider goes, before the plugin unloads
    FfmpegLogRoute(const FfmpegLogRoute&) = delete;
    FfmpegLogRoute& operator=(const FfmpegLogRoute&) = delete;
};

// Routes FFmpeg's lines on this thread to `log` for the scope's lifetime.
class FfmpegLogScope
{
public:
    explicit FfmpegLogScope(const PluginLog& log);
    ~FfmpegLogScope();
    FfmpegLogScope(const FfmpegLogScope&) = delete;
    FfmpegLogScope& operator=(const FfmpegLogScope&) = delete;

private:
    const PluginLog* previous_;
};

// The last error FFmpeg logged on this thread (empty if none); reading it clears it.
std::string take_last_ffmpeg_error();

} // namespace jarvis
