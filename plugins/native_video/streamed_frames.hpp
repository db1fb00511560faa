#pragma once

#include "config/provider_config.hpp"
#include "core/call_setup.hpp"
#include "http/send_while_writing.hpp"
#include "log/plugin_log.hpp"
#include "video_delivery.hpp"

#include <jarvis/plugin_adapter.hpp>

#include <string>

namespace jarvis {

// Sends a planned frames delivery while its frames are decoded, so that the request is complete soon after the last
// frame is encoded: the body goes out up to the video's data URL, each frame follows as soon as it and every earlier
// one are encoded, then the rest of the body with the frames' true times (send_while_writing: decoding runs on a
// thread of its own; a decoding failure aborts the request and is what this throws). On success `video` is filled as prepare_video
// fills a decoded one (URL, kwargs, frame list, warnings, the client's cache entry under `media_key`).
WrittenAnswer send_while_decoding(PreparedVideo& video, const CallSetup& setup, const ChatTurn& turn, const ProviderConfig& config,
                                  const plugin::Call& call, const PluginLog& log, const std::string& media_key);

} // namespace jarvis
