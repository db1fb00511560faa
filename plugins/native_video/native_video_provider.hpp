#pragma once

#include "config/provider_config.hpp"
#include "core/plugin_log.hpp"
#include "media/ffmpeg_log.hpp"

#include <jarvis/plugin_adapter.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace jarvis {

// Sends the video itself to the server (a video_url part), so that Qwen3-VL's temporal encoding sees real time.
// Thread-safe: plan and ask keep no state between calls.
class NativeVideoProvider
{
public:
    NativeVideoProvider(plugin::Host host, std::string_view config_json);

    std::string plan(std::string_view request_json, plugin::Call& call);
    std::string ask(std::string_view request_json, plugin::Call& call);

private:
    nlohmann::json build_plan(std::string_view request_json, plugin::Call& call) const;

    ProviderConfig config_;
    PluginLog log_;
    FfmpegLogRoute ffmpeg_log_route_;
};

} // namespace jarvis
