#include "media/ffmpeg_log.hpp"

extern "C" {
#include <libavutil/log.h>
}

#include <cstdio>
#include <mutex>

namespace jarvis {
namespace {

std::mutex route_mutex;
int route_users = 0;

thread_local const PluginLog* current_log = nullptr;
// Plain arrays, not std::string: a thread_local with a destructor pins this library in memory (glibc defers
// dlclose until every thread that touched it has exited), and plugins must unload cleanly.
thread_local char last_error[512];

void forward(void* avcl, int level, const char* format, va_list args)
{
    if (level > av_log_get_level() && level > AV_LOG_ERROR)
        return;
    char line[1024];
    int print_prefix = 1;
    av_log_format_line2(avcl, level, format, args, line, sizeof line, &print_prefix);
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.pop_back();
    if (text.empty())
        return;
    if (level <= AV_LOG_ERROR) {
        // Keep the message without FFmpeg's "[mov,mp4 @ 0x...] " prefix.
        const size_t bracket = text.find("] ");
        const std::string message = text[0] == '[' && bracket != std::string::npos ? text.substr(bracket + 2) : text;
        std::snprintf(last_error, sizeof last_error, "%s", message.c_str());
    }
    if (current_log == nullptr)
        return;
    // Errors reach the user through the call's own message (take_last_ffmpeg_error), so the log keeps them at debug.
    current_log->debug("ffmpeg: {}", text);
}

} // namespace

FfmpegLogRoute::FfmpegLogRoute()
{
    std::lock_guard lock(route_mutex);
    if (route_users++ == 0)
        av_log_set_callback(&forward);
}

FfmpegLogRoute::~FfmpegLogRoute()
{
    std::lock_guard lock(route_mutex);
    if (--route_users == 0)
        av_log_set_callback(&av_log_default_callback);
}

FfmpegLogScope::FfmpegLogScope(const PluginLog& log) : previous_(current_log) { current_log = &log; }

FfmpegLogScope::~FfmpegLogScope() { current_log = previous_; }

std::string take_last_ffmpeg_error()
{
    std::string out(last_error);
    last_error[0] = '\0';
    return out;
}

} // namespace jarvis
