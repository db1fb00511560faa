#pragma once

#include "config/loadout.hpp"
#include "config/provider_config.hpp"
#include "core/call_setup.hpp"
#include "core/conversation.hpp"
#include "core/frame_sampling.hpp"
#include "core/qwen_tokens.hpp"
#include "delivery_cost.hpp"
#include "http/media_server.hpp"
#include "media/media_source.hpp"
#include "staged_copies.hpp"

#include <jarvis/plugin_adapter.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace jarvis {

enum class DeliveryMode { url, file, http, data, frames };
std::string_view to_string(DeliveryMode mode);

struct DeliveryDecision
{
    DeliveryMode mode;
    std::string why;            // how auto decided, for the log and the plan
    nlohmann::json estimates_s = nullptr; // auto: delivery -> expected seconds until the server holds the frames
};

// The delivery for a source. http(s) sources pass through (unless delivery=frames). auto weighs the deliveries the
// configuration allows by their expected time until the server holds the frames (delivery_cost.hpp): file when a
// volume is configured and the server is on this machine, http when an advertised host is configured, against
// frames; frames only when it is clearly faster (long videos: the server's loader decodes every frame up to its last
// sample), and whenever start/end clip the video (vLLM cannot) or no pointer delivery is possible. Throws
// ConfigError for explicit choices that cannot serve this source or configuration. `staged_copies` (when given) holds
// the copy made for an earlier question: a video copied already costs no copy, and another's copy frees its room.
DeliveryDecision decide_delivery(const MediaInfo& media, const Loadout& loadout, const ProviderConfig& config,
                                 const DeliveryRates& rates = {}, const StagedCopies* staged_copies = nullptr);

// What a request needs while it is on its way: the URL the server gets, the request's media_io_kwargs, and the
// resources that must live until the answer is in (a staged file, a media server). Destroying it cleans up.
struct PreparedVideo
{
    DeliveryMode mode = DeliveryMode::url;
    std::string url;                   // data: empty (the file is streamed into the body as it is serialised)
    nlohmann::json video_kwargs;       // media_io_kwargs["video"] of the request, or null
    std::string data_path;             // data: the file and its type
    std::string data_mime;
    // frames: the frames sent (pts_s, width, height, bytes, as in a plan's media.frames) and the video's end.
    nlohmann::json frame_list;
    double frames_end_s = 0;
    bool from_cache = false; // frames: taken from the client's media cache, nothing decoded
    // frames, when asking: the frames are decoded while the request is sent (send_while_decoding), which fills the
    // URL, kwargs, frame list and warnings; until then the estimate is the plan's.
    std::optional<FramePlan> frames_plan;
    bool staged_into_volume = false;   // file: the video is staged into the volume (a plan: would be, when asking)
    std::string staged_copy;           // file, staged by a copy: "made", or "reused" (the copy kept from an earlier question)
    qwen::VideoEstimate estimate;
    std::vector<std::string> warnings;
    std::shared_ptr<const StagedFile> staged;
    std::unique_ptr<MediaServer> server;
};

// Prepares `mode` for this request. With `for_real` false (plan) nothing is staged or served: URLs are previews.
// The frames delivery's encoded frames are kept in the client's media cache under `media_key`, so that the same
// frames asked for again (a follow-up) are not decoded twice; when asking, frames not in the cache are only planned
// (frames_plan), to be decoded while the request goes out. A video copied into the volume is kept in `staged_copies`
// for the next question about it.
PreparedVideo prepare_video(DeliveryMode mode, MediaSource& source, const CallSetup& setup, const ProviderConfig& config,
                            const plugin::Call& call, const PluginLog& log, bool for_real, const std::string& media_key,
                            StagedCopies& staged_copies);

// The frames delivery's data URL, piece by piece, so that it can be sent as the frames come: the prefix, each JPEG
// base64-encoded (after a comma but the first), then the ending once all are in: vLLM needs at least 2 frames, so a
// one-frame clip sends its frame again.
std::string frames_url_prefix();
std::string frame_url_piece(const EncodedFrame& frame, bool first);
std::string frames_url_ending(const std::vector<EncodedFrame>& frames);

// Completes a frames delivery once its frames are encoded: the URL, the kwargs that give vLLM their true times, the
// frame list and estimate, and the client's cache entry under `media_key`.
void finish_frames(PreparedVideo& video, const SampledFrames& sampled, std::string url, const ProviderConfig& config,
                   const std::string& media_key);

// Decodes a planned frames delivery now, in full (what a request that must be whole before it goes needs).
void decode_planned_frames(PreparedVideo& video, const ProviderConfig& config, const plugin::Call& call, const PluginLog& log,
                           const std::string& media_key);

// Where a question stands in its conversation: the earlier turns it follows (none for a first question), the
// oldest answers left out to fit the context, the video part's uuid, and whether the part goes by uuid alone.
struct ChatTurn
{
    const Conversation* earlier = nullptr;
    size_t skip_answers = 0;
    std::string uuid;
    bool by_reference = false;
    std::optional<std::string> reduced; // why the video goes with fewer frames than the conversation began with
};

// The serialised /v1/chat/completions body: the video part, then the prompt (for a follow-up: the first question so,
// then the earlier answers and questions, then this one). For data delivery the file is base64-encoded straight
// into the body, which is the only copy of it in memory.
std::string video_chat_body(const PreparedVideo& video, const CallSetup& setup, const ChatTurn& turn = {});

std::string video_mime_type(const std::string& container);

} // namespace jarvis
