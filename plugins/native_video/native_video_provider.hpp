#pragma once

#include "config/provider_config.hpp"
#include "core/call_setup.hpp"
#include "core/frame_sampling.hpp"
#include "log/plugin_log.hpp"
#include "media/ffmpeg_log.hpp"
#include "media/media_source.hpp"
#include "video_delivery.hpp"

#include <jarvis/plugin_adapter.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace jarvis {

// Sends the video itself to the server (a video_url part), so that Qwen3-VL's temporal encoding sees real time.
// Deliveries: the shared volume (file://, staging videos from elsewhere), a media server of ours (http), inline
// (data:), or frames sampled here and sent as one video with their true times. When the server refuses the
// delivery it retries once with frames; when it refuses video altogether it answers through images.
// Thread-safe: plan and ask keep no state between calls.
class NativeVideoProvider
{
public:
    NativeVideoProvider(plugin::Host host, std::string_view config_json);

    std::string plan(std::string_view request_json, plugin::Call& call);
    std::string ask(std::string_view request_json, plugin::Call& call);
    std::string tool(std::string_view request_json, plugin::Call& call);

private:
    // The plan document without its request, for one prepared delivery.
    nlohmann::json summary(const MediaInfo& media, const DeliveryDecision& decision, const PreparedVideo& video,
                           const CallSetup& setup, const ChatTurn& turn) const;
    // The video prepared for `mode` and the question's place in its conversation (`earlier`, when this question
    // continues it). When leaving out every earlier answer does not make the conversation fit ctx, the video goes
    // with fewer frames, and `earlier` keeps that many. Staged files go to `staged` (removed after the source closes).
    struct Prepared
    {
        PreparedVideo video;
        std::string key;
        ChatTurn turn;
    };
    Prepared prepare_turn(DeliveryMode mode, MediaSource& source, CallSetup& setup, std::optional<Conversation>& earlier,
                          bool continues, const plugin::Call& call, bool for_real,
                          std::vector<std::shared_ptr<const StagedFile>>& staged) const;
    // The image path: frames as timestamped images, for servers that take no video.
    nlohmann::json ask_with_images(MediaSource& source, const CallSetup& setup, plugin::Call& call, double media_s) const;
    // The request's video, with the URL settings; an HLS master at the variant frames made for `use` need.
    MediaSource open_video(const CallSetup& setup, plugin::Call& call, FrameUse use) const;

    ProviderConfig config_;
    PluginLog log_;
    FfmpegLogRoute ffmpeg_log_route_;
    // Videos copied into the shared volume, kept for follow-up questions (every provider of the process shares it).
    std::shared_ptr<StagedCopies> staged_copies_;
};

} // namespace jarvis
