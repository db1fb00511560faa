#include "frame_slicer_provider.hpp"

#include "core/document_text.hpp"
#include "core/call_setup.hpp"
#include "config/config_error.hpp"
#include "core/chat_body.hpp"
#include "core/conversation.hpp"
#include "core/error_codes.hpp"
#include "core/frame_sampling.hpp"
#include "core/media_part_cache.hpp"
#include "core/qwen_tokens.hpp"
#include "http/ask_flow.hpp"
#include "http/body_slot.hpp"
#include "http/send_while_writing.hpp"
#include "tools/host_tools.hpp"
#include "media/media_error.hpp"
#include "media/media_source.hpp"

#include <fmt/format.h>

#include <chrono>
#include <functional>
#include <memory>

namespace jarvis {
using nlohmann::json;

FrameSlicerProvider::FrameSlicerProvider(plugin::Host host, std::string_view config_json)
    : config_(with_status_codes([&] { return parse_provider_config(std::string(config_json), "configuration"); })),
      log_(host)
{
}

namespace {

// One frame's parts, the image's with its uuid (the frame's place among the images).
json frame_parts(const EncodedFrame& frame, const std::string& key, size_t image)
{
    json parts = frame_image_parts(frame);
    parts[1]["uuid"] = media_part_uuid(key, image);
    return parts;
}

// The cache entry (and what a plan says) for frames whose parts are made.
std::shared_ptr<const CachedMedia> media_of(const SampledFrames& frames, const MediaInfo& info, json parts)
{
    auto media = std::make_shared<CachedMedia>();
    media->parts = std::move(parts);
    for (const json& part : media->parts)
        if (part["type"] == "image_url")
            media->bytes += part["image_url"]["url"].get_ref<const std::string&>().size();
    media->visual_tokens = image_tokens(frames);
    media->media_summary = {{"source", info.source},
                            {"delivery", "images"},
                            {"duration_s", frames.index->end_s},
                            {"width", info.width},
                            {"height", info.height},
                            {"clip", {{"start_s", frames.clip_start_s}, {"end_s", frames.clip_end_s}}},
                            {"seek", to_string(frames.mode)},
                            {"frames", frame_list(frames)}};
    media->estimate = {{"frames", frames.extraction.frames.size()}, {"visual_tokens", media->visual_tokens}};
    media->warnings = frames.warnings;
    return media;
}

// The image parts of the sampled frames, each with its uuid, with what a plan says about them. Each JPEG is dropped once
// its part is made: a long video's images are not held twice.
std::shared_ptr<const CachedMedia> encode_media(const ProviderConfig& config, const CallSetup& setup, MediaSource& source,
                                                plugin::Call& call, const PluginLog& log, const std::string& key)
{
    json parts = json::array();
    const auto add = [&](const EncodedFrame& f) {
        for (json& part : frame_parts(f, key, parts.size() / 2))
            parts.push_back(std::move(part));
    };
    const SampledFrames frames = extract_planned(plan_frames(config, setup, source, call, log), call, log, add, false);
    log.debug("frame_slicer: {} frames of {}", frames.extraction.frames.size(), source.info().source);
    return media_of(frames, source.info(), std::move(parts));
}

// A body's text on either side of its frames' parts: the question's text before them, the rest of the request after.
// `body_with(parts)` is the body with the given frames' parts; the first part follows the question's text after a comma.
BodyAroundSlot around_frames(const std::function<json(json parts)>& body_with)
{
    BodyAroundSlot around = split_at_slot([&](const std::string& placeholder) { return body_with(json::array({placeholder})).dump(); });
    if (around.before.size() < 2 || around.before.compare(around.before.size() - 2, 2, ",\"") != 0)
        throw std::logic_error("frame_slicer: the frames' parts do not follow the question's text");
    around.before.resize(around.before.size() - 2); // the comma and the opening quote of the placeholder's string
    around.after.erase(0, 1);                       // its closing quote
    return around;
}

// The first question's content: its text, then each frame's time and image.
json first_content(const std::string& prompt, const json& parts)
{
    json content = json::array({{{"type", "text"}, {"text", prompt}}});
    content.insert(content.end(), parts.begin(), parts.end());
    return content;
}

// The time label that follows the question's text in the body (the tokenizer counts the two together).
std::string first_label(const json& parts)
{
    return !parts.empty() && parts[0].value("type", "") == "text" ? parts[0].value("text", "") : std::string();
}

// The same parts by reference: the uuid alone, for a server that has them cached.
json referenced(json parts)
{
    for (json& part : parts)
        if (part.contains("uuid"))
            part["image_url"] = nullptr;
    return parts;
}

} // namespace

struct FrameSlicerProvider::Turn
{
    json plan;
    CallSetup setup;
    std::optional<Conversation> earlier;
    std::string media_key;
    size_t skip_answers = 0;
    std::optional<std::string> reduced; // why a follow-up goes with fewer frames
    std::shared_ptr<const CachedMedia> media;
    bool media_was_cached = false;
    // A first question whose frames are decoded while its request goes out (media is set once they are): the open
    // video and the frames to take from it.
    std::unique_ptr<MediaSource> source;
    std::optional<FramePlan> frames_plan;

    json body_with(const json& parts) const
    {
        json chat = make_chat_body(setup.loadout, json::array(), setup.stream);
        chat["max_tokens"] = setup.max_tokens;
        chat["messages"] = earlier ? continued_messages(first_content(earlier->turns.front().prompt, parts), *earlier,
                                                        setup.request.prompt, skip_answers)
                                   : json::array({{{"role", "user"}, {"content", first_content(setup.request.prompt, parts)}}});
        return chat;
    }

    json body(bool by_reference) const { return body_with(by_reference ? referenced(media->parts) : media->parts); }

    // The body with every frame's image, as text written straight from the cached parts: a long video's images are
    // not copied into a second JSON document on their way (the plan's request is that document).
    std::string body_text() const
    {
        const BodyAroundSlot around = around_frames([this](json parts) { return body_with(std::move(parts)); });
        std::string text;
        text.reserve(around.before.size() + around.after.size() + media->bytes + 256 * media->parts.size());
        text += around.before;
        for (const json& part : media->parts) {
            text += ',';
            text += part.dump();
        }
        text += around.after;
        return text;
    }

    // The plan document for the media in hand; `text_tokens` are the prompt's tokens besides the frames.
    json document(const std::string& endpoint, int64_t text_tokens, bool with_request) const
    {
        json warnings(setup.warnings);
        for (const auto& w : media->warnings)
            warnings.push_back(w);
        if (reduced)
            warnings.push_back(*reduced);
        else if (skip_answers > 0)
            warnings.push_back(fmt::format("the {} oldest answer(s) of the conversation are left out to fit ctx={}", skip_answers,
                                           setup.ctx.value_or(0)));
        json estimate = media->estimate;
        estimate["prompt_tokens"] = media->visual_tokens + text_tokens;
        json doc = {
            {"plugin", "frame_slicer"},
            {"endpoint", endpoint},
            {"media", media->media_summary},
            {"estimate", std::move(estimate)},
            {"warnings", std::move(warnings)},
        };
        if (with_request)
            doc["request"] = body(false);
        if (earlier)
            doc["conversation"] = {{"turns", earlier->turns.size()},
                                   {"answers_left_out", skip_answers},
                                   {"frames_reduced", reduced.has_value()},
                                   {"media_cached", media_was_cached}};
        return doc;
    }
};

FrameSlicerProvider::Turn FrameSlicerProvider::build_plan(std::string_view request_json, plugin::Call& call,
                                                          bool decode_while_sending, bool with_request) const
{
    Turn t;
    t.setup = prepare_call(config_, request_json);
    t.earlier = continue_conversation(t.setup, "frame_slicer");
    call.progress("probe", -1);
    t.source = std::make_unique<MediaSource>(
        MediaSource::open(t.setup.request.video, [&] { return call.cancelled(); }, config_.video_url.timeout_s,
                          static_cast<size_t>(config_.video_url.cache_bytes), variant_size_wanted(t.setup, FrameUse::images, log_)));
    MediaSource& source = *t.source;
    const auto acquire = [&] {
        t.media_key = media_key("frame_slicer", source.info(), media_shaping(t.setup, config_, "images"));
        // A follow-up (or a repeated question) finds the frames already encoded: nothing is decoded twice.
        t.media = config_.conversation.cache_bytes > 0 ? find_cached_media(t.media_key) : nullptr;
        t.media_was_cached = t.media != nullptr;
        if (t.media)
            return;
        if (decode_while_sending && !t.earlier)
            t.frames_plan = plan_frames(config_, t.setup, source, call, log_);
        else {
            t.media = encode_media(config_, t.setup, source, call, log_, t.media_key);
            cache_media(t.media_key, t.media, config_.conversation.cache_bytes);
        }
    };
    acquire();
    if (t.frames_plan)
        return t;
    if (t.earlier && t.earlier->media_key != t.media_key)
        throw MediaError(fmt::format("cannot continue the conversation: video '{}' changed since its first question "
                                     "(another file, or edited); start a new conversation",
                                     t.setup.request.video));

    const auto base_tokens = [&] {
        return t.media->visual_tokens +
               qwen::conversation_text_tokens(t.earlier->turns.front().prompt, t.setup.request.prompt, first_label(t.media->parts));
    };
    int64_t text_tokens = qwen::question_text_tokens(t.setup.request.prompt, first_label(t.media->parts));
    if (t.earlier) {
        const int64_t max_tokens = t.setup.max_tokens;
        if (t.setup.ctx) {
            const int64_t ctx = *t.setup.ctx;
            try {
                t.skip_answers = answers_to_skip(*t.earlier, base_tokens(), max_tokens, ctx);
            } catch (const ConfigError&) {
                // Every answer left out is not enough: fewer frames, as many as the context still holds (the first
                // question's media changes, so the server's caches start afresh).
                const auto frames_before = static_cast<int64_t>(t.media->media_summary["frames"].size());
                const int64_t without_media = base_tokens() - t.media->visual_tokens + earlier_turn_tokens(*t.earlier, t.earlier->turns.size());
                const int64_t per_frame = std::max<int64_t>(1, t.media->visual_tokens / std::max<int64_t>(frames_before, 1));
                const int64_t fit = (ctx - max_tokens - without_media) / per_frame;
                if (fit < 1 || fit >= frames_before)
                    throw;
                t.setup.loadout.max_frames = fit;
                acquire();
                t.earlier->max_frames = fit;
                t.earlier->media_key = t.media_key;
                t.skip_answers = answers_to_skip(*t.earlier, base_tokens(), max_tokens, ctx);
                t.reduced = fmt::format("every earlier answer is left out and the video goes with {} frames instead of {} to "
                                        "fit ctx={}",
                                        t.media->media_summary["frames"].size(), frames_before, ctx);
            }
        }
        text_tokens = base_tokens() - t.media->visual_tokens + earlier_turn_tokens(*t.earlier, t.skip_answers);
    }
    t.plan = t.document(config_.endpoint.base_url, text_tokens, with_request);
    return t;
}

std::string FrameSlicerProvider::plan(std::string_view request_json, plugin::Call& call)
{
    return with_status_codes([&] {
        const FfmpegLogScope ffmpeg_log(log_);
        return document_text(build_plan(request_json, call, false, true).plan);
    });
}

json FrameSlicerProvider::ask_while_decoding(Turn& turn, plugin::Call& call, double sent_s) const
{
    // The body around the frames: the question's text goes first, the frames' parts follow it as they are encoded.
    const BodyAroundSlot around = around_frames([&turn](json parts) { return turn.body_with(std::move(parts)); });

    const WrittenAnswer written = send_while_writing(config_.endpoint, turn.setup.stream, call, [&](StreamedBody& body, const plugin::Call& decoding) {
        const FfmpegLogScope ffmpeg_log(log_);
        body.append(around.before);
        json parts = json::array();
        const auto send = [&](const EncodedFrame& f) {
            json two = frame_parts(f, turn.media_key, parts.size() / 2);
            body.append("," + two[0].dump() + "," + two[1].dump());
            for (json& part : two)
                parts.push_back(std::move(part));
        };
        const SampledFrames frames = extract_planned(*turn.frames_plan, decoding, log_, send, false);
        log_.debug("frame_slicer: {} frames of {}, sent while decoding", frames.extraction.frames.size(), turn.source->info().source);
        turn.media = media_of(frames, turn.source->info(), std::move(parts));
        cache_media(turn.media_key, turn.media, config_.conversation.cache_bytes);
        body.append(around.after);
    });
    const int64_t text_tokens = qwen::question_text_tokens(turn.setup.request.prompt, first_label(turn.media->parts));
    return ask_result(written.answer, turn.document(config_.endpoint.base_url, text_tokens, false), sent_s + written.body_whole_s, sent_s);
}

std::string FrameSlicerProvider::ask(std::string_view request_json, plugin::Call& call)
{
    return with_status_codes([&] {
        const FfmpegLogScope ffmpeg_log(log_);
        const auto start = std::chrono::steady_clock::now();
        const auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
        Turn turn = build_plan(request_json, call, config_.frames.send_while_decoding, false);
        json result;
        if (turn.frames_plan) {
            try {
                result = ask_while_decoding(turn, call, seconds());
            } catch (const plugin::Error& e) {
                // 411 Length Required: a server (or proxy) that takes no chunked body gets it whole.
                if (e.http_status() != 411)
                    throw;
                log_.warn("frame_slicer: the server refused a body sent while decoding ({}); sending it whole", e.what());
                // Its frames were all made meanwhile (send_while_writing lets a refused body's writing finish): only the
                // framing changes.
                if (!turn.media)
                    throw plugin::Error(JV_E_INTERNAL, "frame_slicer: a refused body's frames were not made");
                const int64_t text_tokens = qwen::question_text_tokens(turn.setup.request.prompt, first_label(turn.media->parts));
                turn.plan = turn.document(config_.endpoint.base_url, text_tokens, false);
            }
        }
        const double media_s = seconds();
        const bool by_reference = turn.earlier && config_.conversation.media == "reference";
        json media_mode = {{"mode", by_reference ? "reference" : "resend"}, {"client_cache", turn.media_was_cached ? "hit" : "miss"}};
        if (result.is_null() && !by_reference) {
            result = send_request(config_.endpoint, turn.body_text(), turn.setup.stream, turn.plan, call, media_s);
        } else if (result.is_null()) {
            try {
                result = send_request(config_.endpoint, turn.body(true).dump(), turn.setup.stream, turn.plan, call, media_s);
                media_mode["resent"] = false;
            } catch (const plugin::Error& e) {
                // A server that lost the media (restarted, evicted it, or caches nothing) says so; once, the media
                // goes again.
                if (e.code() != JV_E_REFUSED || !is_media_cache_miss(e.what()))
                    throw;
                log_.info("frame_slicer: the server no longer has this video's frames ({}); sending them again", e.what());
                result = send_request(config_.endpoint, turn.body_text(), turn.setup.stream, turn.plan, call, media_s);
                media_mode["resent"] = true;
                media_mode["reason"] = e.what();
            }
        }
        result["conversation"] =
            extended_conversation(turn.earlier, "frame_slicer", turn.setup, turn.media_key, result.value("answer", "")).to_json();
        result["conversation_media"] = std::move(media_mode);
        return document_text(result);
    });
}

std::string FrameSlicerProvider::tool(std::string_view request_json, plugin::Call& call)
{
    return with_status_codes([&] { return run_host_tool(request_json, config_, {}, call); });
}

} // namespace jarvis
