#include "native_video_provider.hpp"

#include "core/document_text.hpp"
#include "core/chat_body.hpp"
#include "core/conversation.hpp"
#include "core/error_codes.hpp"
#include "core/frame_sampling.hpp"
#include "http/ask_flow.hpp"
#include "streamed_frames.hpp"
#include "tools/host_tools.hpp"

#include <chrono>
#include <optional>

namespace jarvis {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

enum class Fallback { none, frames, images };

// What a refusal says about the delivery. vLLM's messages (vllm/entrypoints/chat_utils.py, vllm/multimodal) are matched, not its status:
// the same refusal comes as 400, 422 or 500 depending on the version.
Fallback fallback_for(const std::string& message)
{
    for (const char* video_refused : {"video(s) may be provided", "does not support video", "video input is not supported"})
        if (message.find(video_refused) != std::string::npos)
            return Fallback::images;
    for (const char* delivery_refused : {"local files", "allowed-local-media-path", "Failed to fetch", "Cannot fetch", "base64 data URLs",
                                         "data URL", "The URL must be", "subpath", "Failed to decode video",
                                         "must be larger than temporal_factor"})
        if (message.find(delivery_refused) != std::string::npos)
            return Fallback::frames;
    return Fallback::none;
}

// The call's own warnings (ignored keys and options) first, then the media's.
json with_setup_warnings(const CallSetup& setup, const std::vector<std::string>& media_warnings)
{
    json out(setup.warnings);
    for (const auto& w : media_warnings)
        out.push_back(w);
    return out;
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// A follow-up keeps the delivery the conversation's first answer came through: its uuid names that media.
void keep_delivery(CallSetup& setup, const Conversation& earlier)
{
    static const std::pair<std::string_view, Delivery> deliveries[] = {
        {"file", Delivery::file}, {"http", Delivery::http}, {"data", Delivery::data}, {"frames", Delivery::frames}};
    for (const auto& [name, delivery] : deliveries)
        if (earlier.delivery == name)
            setup.loadout.delivery = delivery;
}

// The conversation's part of a question: its media key (checked against the conversation's) and place in it.
ChatTurn conversation_turn(const std::optional<Conversation>& earlier, const std::string& key, const CallSetup& setup,
                           const qwen::VideoEstimate& estimate)
{
    if (earlier && earlier->media_key != key)
        throw MediaError(fmt::format("cannot continue the conversation: video '{}' changed since its first question "
                                     "(another file, or edited), or its delivery cannot be used any more; start a new conversation",
                                     setup.request.video));
    ChatTurn turn;
    turn.earlier = earlier ? &*earlier : nullptr;
    turn.uuid = media_part_uuid(key, 0);
    if (earlier && setup.ctx)
        turn.skip_answers = answers_to_skip(*earlier, estimate.visual_tokens + qwen::conversation_text_tokens(earlier->turns.front().prompt, setup.request.prompt),
                                            setup.max_tokens, *setup.ctx);
    return turn;
}

// How many frames fit ctx beside every question and no earlier answer; nothing when fewer than the delivery needs
// (vLLM's loader samples at least 4, frames sent by the client are at least 2) or no fewer than now.
std::optional<int64_t> frames_that_fit(const Conversation& earlier, const CallSetup& setup, const qwen::VideoEstimate& estimate,
                                       DeliveryMode mode)
{
    const int64_t text = qwen::conversation_text_tokens(earlier.turns.front().prompt, setup.request.prompt) +
                         earlier_turn_tokens(earlier, earlier.turns.size());
    const int64_t per_frame = std::max<int64_t>(1, estimate.visual_tokens / std::max(estimate.frames, 1));
    // Frames go to the model in pairs (temporal patches of 2): an odd count costs what the next even one does.
    const int64_t fit = (*setup.ctx - setup.max_tokens - text) / per_frame / 2 * 2;
    const int64_t least = mode == DeliveryMode::frames ? 2 : qwen::loader_min_frames;
    if (fit < least || fit >= estimate.frames)
        return std::nullopt;
    return fit;
}

std::string key_for(const MediaInfo& media, const CallSetup& setup, const ProviderConfig& config, DeliveryMode mode)
{
    return media_key("native_video", media, media_shaping(setup, config, to_string(mode)));
}

} // namespace

NativeVideoProvider::NativeVideoProvider(plugin::Host host, std::string_view config_json)
    : config_(with_status_codes([&] { return parse_provider_config(std::string(config_json), "configuration"); })),
      log_(host), staged_copies_(shared_staged_copies())
{
}

json NativeVideoProvider::summary(const MediaInfo& media, const DeliveryDecision& decision, const PreparedVideo& video,
                                  const CallSetup& setup, const ChatTurn& turn) const
{
    json media_doc = {{"source", media.source},
                      {"delivery", to_string(video.mode)},
                      {"delivery_reason", decision.mode == video.mode ? decision.why : "fallback"},
                      {"duration_s", video.mode == DeliveryMode::frames ? video.frames_end_s : media.duration_s},
                      {"width", media.width},
                      {"height", media.height}};
    if (!decision.estimates_s.is_null())
        media_doc["delivery_estimates_s"] = decision.estimates_s;
    if (video.mode == DeliveryMode::frames)
        media_doc["frames"] = video.frame_list;
    if (video.staged_into_volume)
        media_doc["staged"] = true;
    if (!video.staged_copy.empty())
        media_doc["staged_copy"] = video.staged_copy;
    int64_t text_tokens = qwen::question_text_tokens(setup.request.prompt);
    json warnings = with_setup_warnings(setup, video.warnings);
    if (turn.earlier) {
        text_tokens = qwen::conversation_text_tokens(turn.earlier->turns.front().prompt, setup.request.prompt) +
                      earlier_turn_tokens(*turn.earlier, turn.skip_answers);
        if (turn.reduced)
            warnings.push_back(*turn.reduced);
        else if (turn.skip_answers > 0)
            warnings.push_back(fmt::format("the {} oldest answer(s) of the conversation are left out to fit ctx={}",
                                           turn.skip_answers, setup.ctx.value_or(0)));
    }
    json doc = {
        {"plugin", "native_video"},
        {"endpoint", config_.endpoint.base_url},
        {"media", std::move(media_doc)},
        {"estimate",
         {{"frames", video.estimate.frames},
          {"resized_width", video.estimate.resized.width},
          {"resized_height", video.estimate.resized.height},
          {"visual_tokens", video.estimate.visual_tokens},
          {"prompt_tokens", video.estimate.visual_tokens + text_tokens}}},
        {"warnings", std::move(warnings)},
    };
    if (turn.earlier)
        doc["conversation"] = {{"turns", turn.earlier->turns.size()},
                               {"answers_left_out", turn.skip_answers},
                               {"frames_reduced", turn.reduced.has_value()}};
    return doc;
}

NativeVideoProvider::Prepared NativeVideoProvider::prepare_turn(DeliveryMode mode, MediaSource& source, CallSetup& setup,
                                                                std::optional<Conversation>& earlier, bool continues,
                                                                const plugin::Call& call, bool for_real,
                                                                std::vector<std::shared_ptr<const StagedFile>>& staged) const
{
    static const std::optional<Conversation> no_conversation;
    const std::optional<Conversation>& conversation = continues ? earlier : no_conversation;
    Prepared p{{}, key_for(source.info(), setup, config_, mode), {}};
    p.video = prepare_video(mode, source, setup, config_, call, log_, for_real, p.key, *staged_copies_);
    try {
        p.turn = conversation_turn(conversation, p.key, setup, p.video.estimate);
    } catch (const ConfigError&) {
        const auto fit = conversation && setup.ctx ? frames_that_fit(*conversation, setup, p.video.estimate, mode) : std::nullopt;
        if (!fit)
            throw;
        const int before = p.video.estimate.frames;
        if (p.video.staged)
            staged.push_back(std::move(p.video.staged));
        setup.loadout.max_frames = *fit;
        p.key = key_for(source.info(), setup, config_, mode);
        p.video = prepare_video(mode, source, setup, config_, call, log_, for_real, p.key, *staged_copies_);
        earlier->max_frames = *fit;
        earlier->media_key = p.key;
        p.turn = conversation_turn(conversation, p.key, setup, p.video.estimate);
        p.turn.reduced = fmt::format("every earlier answer is left out and the video goes with {} frames instead of {} to fit "
                                     "ctx={}",
                                     p.video.estimate.frames, before, setup.ctx.value_or(0));
    }
    return p;
}

std::string NativeVideoProvider::plan(std::string_view request_json, plugin::Call& call)
{
    return with_status_codes([&] {
        const FfmpegLogScope ffmpeg_log(log_);
        CallSetup setup = prepare_call(config_, request_json);
        std::optional<Conversation> earlier = continue_conversation(setup, "native_video");
        if (earlier)
            keep_delivery(setup, *earlier);
        call.progress("probe", -1);
        MediaSource source = open_video(setup, call, FrameUse::video); // a playlist goes as frames
        const DeliveryDecision decision = decide_delivery(source.info(), setup.loadout, config_, delivery_rates(config_, source.info()),
                                                         staged_copies_.get());
        std::vector<std::shared_ptr<const StagedFile>> none_staged; // a plan stages nothing
        const Prepared p = prepare_turn(decision.mode, source, setup, earlier, true, call, false, none_staged);
        json doc = summary(source.info(), decision, p.video, setup, p.turn);
        doc["request"] = json::parse(video_chat_body(p.video, setup, p.turn));
        return document_text(doc);
    });
}

MediaSource NativeVideoProvider::open_video(const CallSetup& setup, plugin::Call& call, FrameUse use) const
{
    return MediaSource::open(setup.request.video, [&call] { return call.cancelled(); }, config_.video_url.timeout_s,
                             static_cast<size_t>(config_.video_url.cache_bytes), variant_size_wanted(setup, use, log_));
}

json NativeVideoProvider::ask_with_images(MediaSource& source, const CallSetup& setup, plugin::Call& call, double media_s) const
{
    const auto start = Clock::now();
    const SampledFrames frames = sample_frames(config_, setup, source, call, log_);
    json content = json::array({{{"type", "text"}, {"text", setup.request.prompt}}});
    for (auto& part : image_parts(frames))
        content.push_back(std::move(part));
    // The first time label follows the prompt directly; the tokenizer counts the two together.
    const std::string first_label = content.size() > 1 ? content[1].value("text", "") : std::string();
    const int64_t visual = image_tokens(frames);
    const json summary_doc = {
        {"plugin", "native_video"},
        {"media",
         {{"source", source.info().source},
          {"delivery", "images"},
          {"duration_s", frames.index->end_s},
          {"width", source.info().width},
          {"height", source.info().height},
          {"frames", frame_list(frames)}}},
        {"estimate", {{"frames", frames.extraction.frames.size()}, {"visual_tokens", visual},
                      {"prompt_tokens", visual + qwen::question_text_tokens(setup.request.prompt, first_label)}}},
        {"warnings", with_setup_warnings(setup, frames.warnings)},
    };
    const std::string body = make_chat_body(setup.loadout, std::move(content), setup.stream).dump();
    return send_request(config_.endpoint, body, setup.stream, summary_doc, call, media_s + seconds_since(start));
}

std::string NativeVideoProvider::ask(std::string_view request_json, plugin::Call& call)
{
    return with_status_codes([&] {
        const FfmpegLogScope ffmpeg_log(log_);
        const auto start = Clock::now();
        CallSetup setup = prepare_call(config_, request_json);
        std::optional<Conversation> earlier = continue_conversation(setup, "native_video");
        if (earlier)
            keep_delivery(setup, *earlier);
        const bool by_reference = earlier && config_.conversation.media == "reference";
        call.progress("probe", -1);
        // Declared before the source, so that staged files are removed after it is closed: Windows refuses to delete
        // a name of a file that is open (a hard link is another name of the video the source holds).
        std::vector<std::shared_ptr<const StagedFile>> staged_files;
        MediaSource source = open_video(setup, call, FrameUse::video); // a playlist goes as frames
        const DeliveryDecision decision = decide_delivery(source.info(), setup.loadout, config_, delivery_rates(config_, source.info()),
                                                         staged_copies_.get());
        log_.info("native_video: delivering {} as {} ({})", source.info().source, to_string(decision.mode), decision.why);

        DeliveryMode mode = decision.mode;
        json fallback = nullptr;
        while (true) {
            // The prepared video (a staged file, a media server) lives until its answer is in, or its refusal.
            // A fallback answers afresh: its media is not the conversation's.
            Prepared prepared = prepare_turn(mode, source, setup, earlier, fallback.is_null(), call, true, staged_files);
            PreparedVideo& video = prepared.video;
            ChatTurn& turn = prepared.turn;
            const std::string& key = prepared.key;
            if (video.staged)
                staged_files.push_back(std::move(video.staged));
            // Frames not yet decoded go out as they are decoded; a request that must be whole first has them decoded now.
            const auto send = [&] {
                if (video.frames_plan && !turn.by_reference && config_.frames.send_while_decoding) {
                    const double sent_s = seconds_since(start);
                    try {
                        const WrittenAnswer streamed = send_while_decoding(video, setup, turn, config_, call, log_, key);
                        return ask_result(streamed.answer, summary(source.info(), decision, video, setup, turn),
                                          sent_s + streamed.body_whole_s, sent_s);
                    } catch (const plugin::Error& e) {
                        // 411 Length Required: a server (or proxy) that takes no chunked body gets it whole.
                        if (e.http_status() != 411)
                            throw;
                        log_.warn("native_video: the server refused a body sent while decoding ({}); sending it whole", e.what());
                    }
                }
                if (video.frames_plan)
                    decode_planned_frames(video, config_, call, log_, key);
                return send_request(config_.endpoint, video_chat_body(video, setup, turn), setup.stream,
                                    summary(source.info(), decision, video, setup, turn), call, seconds_since(start));
            };
            try {
                json media_mode = {{"mode", turn.earlier && by_reference ? "reference" : "resend"}};
                if (mode == DeliveryMode::frames)
                    media_mode["client_cache"] = video.from_cache ? "hit" : "miss";
                json result;
                if (turn.earlier && by_reference) {
                    turn.by_reference = true;
                    try {
                        result = send();
                        media_mode["resent"] = false;
                    } catch (const plugin::Error& e) {
                        // A server that lost the video (restarted, evicted it, or caches nothing) says so; once, the
                        // video goes again.
                        if (e.code() != JV_E_REFUSED || !is_media_cache_miss(e.what()))
                            throw;
                        log_.info("native_video: the server no longer has this video ({}); sending it again", e.what());
                        turn.by_reference = false;
                        media_mode["resent"] = true;
                        media_mode["reason"] = e.what();
                    }
                }
                if (result.is_null())
                    result = send();
                result["fallback"] = fallback;
                result["conversation"] = extended_conversation(turn.earlier ? earlier : std::nullopt, "native_video", setup, key,
                                                               result.value("answer", ""), to_string(mode))
                                             .to_json();
                result["conversation_media"] = std::move(media_mode);
                return document_text(result);
            } catch (const plugin::Error& e) {
                const Fallback next = e.code() == JV_E_REFUSED ? fallback_for(e.what()) : Fallback::none;
                // A refusal that has nothing to do with the delivery (the context, the model) is the answer; so is
                // frames refused by a server that takes video.
                if (next == Fallback::none || (next == Fallback::frames && mode == DeliveryMode::frames) || !setup.loadout.fallback)
                    throw;
                if (next == Fallback::frames) {
                    log_.warn("native_video: the server refused delivery={} ({}); retrying once with frames", to_string(mode), e.what());
                    fallback = {{"from", to_string(mode)}, {"to", "frames"}, {"reason", e.what()}};
                    mode = DeliveryMode::frames;
                    continue;
                }
                log_.warn("native_video: the server refused video ({}); answering through images", e.what());
                // A playlist is opened afresh: the frames' copy read its source to the end, and it was opened at the
                // variant a video's frames need, while images, each with a budget of its own, can need a larger one.
                std::optional<MediaSource> for_images;
                if (source.info().is_playlist)
                    for_images.emplace(open_video(setup, call, FrameUse::images));
                json result = ask_with_images(for_images ? *for_images : source, setup, call, seconds_since(start));
                result["fallback"] = {{"from", to_string(mode)}, {"to", "images"}, {"reason", e.what()}};
                return document_text(result);
            }
        }
    });
}

std::string NativeVideoProvider::tool(std::string_view request_json, plugin::Call& call)
{
    return with_status_codes([&] {
        const FfmpegLogScope ffmpeg_log(log_);
        plugin::Call quiet = call.quiet();
        return run_host_tool(request_json, config_, [&](const std::string& request) { return ask(request, quiet); }, call);
    });
}

} // namespace jarvis
