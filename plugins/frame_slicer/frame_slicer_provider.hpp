#pragma once

#include "config/provider_config.hpp"
#include "log/plugin_log.hpp"
#include "media/ffmpeg_log.hpp"

#include <jarvis/plugin_adapter.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace jarvis {

// Samples frames by time and sends them as images, each preceded by its true time in Qwen3-VL's own "<t seconds>"
// notation ("bag of images"): the path for servers and models without video input.
// Thread-safe: plan and ask share only the process-wide cache of frame indexes.
class FrameSlicerProvider
{
public:
    FrameSlicerProvider(plugin::Host host, std::string_view config_json);

    std::string plan(std::string_view request_json, plugin::Call& call);
    std::string ask(std::string_view request_json, plugin::Call& call);
    std::string tool(std::string_view request_json, plugin::Call& call);

private:
    struct Turn; // a planned question: the plan document and what its ask needs besides
    // With `decode_while_sending`, a first question whose frames are not in the client's cache is planned without
    // decoding them: ask_while_decoding sends its request while they are decoded. `with_request`: the plan document
    // holds the request (plan's output; ask writes the body's text from the frames instead).
    Turn build_plan(std::string_view request_json, plugin::Call& call, bool decode_while_sending, bool with_request) const;
    nlohmann::json ask_while_decoding(Turn& turn, plugin::Call& call, double sent_s) const;

    ProviderConfig config_;
    PluginLog log_;
    FfmpegLogRoute ffmpeg_log_route_;
};

} // namespace jarvis
