#include "media/ffmpeg_log.hpp"

namespace jarvis {
namespace {

void to_plugin_log(void* context, int, const char* line)
{
    // Errors reach the user through the call's own message (take_last_ffmpeg_error), so the log keeps them at debug.
    static_cast<const PluginLog*>(context)->debug("ffmpeg: {}", line);
}

} // namespace

FfmpegLogScope::FfmpegLogScope(const PluginLog& log)
    : previous_(jv_ffmpeg_log_set_route({&to_plugin_log, const_cast<PluginLog*>(&log)}))
{
}

std::string take_last_ffmpeg_error()
{
    char buffer[512];
    const size_t n = jv_ffmpeg_log_take_last_error(buffer, sizeof buffer);
    return n == 0 ? std::string() : std::string(buffer);
}

} // namespace jarvis
