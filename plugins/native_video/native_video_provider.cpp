#include "native_video_provider.hpp"

#include "core/chat_body.hpp"
#include "core/error_codes.hpp"
#include "core/frame_sampling.hpp"
#include "http/ask_flow.hpp"
#include "tools/host_tools.hpp"

#include <chrono>

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
                                         "data URL", "The URL must be", "subpath", "Failed to decode video"})
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

} // namespace

NativeVideoProvider::NativeVideoProvider(plugin::Host host, std::string_view config_json)
    : config_(with_status_codes([&] { return parse_provider_config(std::string(config_json), "configuration"); })),
      log_(host)
{
}

json NativeVideoProvider::summary(const MediaInfo& media, const DeliveryDecision& decision, const PreparedVideo& video,
                                  const CallSetup& setup) const
{
    json media_doc = {{"source", media.source},
                      {"delivery", to_string(video.mode)},
                      {"delivery_reason", decision.mode == video.mode ? decision.why : "fallback"},
                      {"duration_s", video.frames ? video.frames->index->end_s : media.duration_s},
                      {"width", media.width},
                      {"height", media.height}};
    if (video.frames)
        media_doc["frames"] = frame_list(*video.frames);
    if (video.staged || video.staged_preview)
        media_doc["staged"] = true;
    return {
        {"plugin", "native_video"},
        {"endpoint", config_.endpoint.base_url},
        {"media", std::move(media_doc)},
        {"estimate",
         {{"frames", video.estimate.frames},
          {"resized_width", video.estimate.resized.width},
          {"resized_height", video.estimate.resized.height},
          {"visual_tokens", video.estimate.visual_tokens},
          {"prompt_tokens", video.estimate.visual_tokens + qwen::estimate_text_tokens(setup.request.prompt.size())}}},
        {"warnings", with_setup_warnings(setup, video.warnings)},
    };
}

std::string NativeVideoProvider::plan(std::string_view request_json, plugin::Call& call)
{
    return with_status_codes([&] {
        const FfmpegLogScope ffmpeg_log(log_);
        const CallSetup setup = prepare_call(config_, request_json);
        call.progress("probe", -1);
        MediaSource source = MediaSource::open(setup.request.video, [&] { return call.cancelled(); }, config_.endpoint.timeout_s);
        const DeliveryDecision decision = decide_delivery(source.info(), setup.loadout, config_);
        const PreparedVideo video = prepare_video(decision.mode, source, setup, config_, call, log_, false);
        json doc = summary(source.info(), decision, video, setup);
        doc["request"] = json::parse(video_chat_body(video, setup));
        return doc.dump();
    });
}

json NativeVideoProvider::ask_with_images(MediaSource& source, const CallSetup& setup, plugin::Call& call, double media_s) const
{
    const auto start = Clock::now();
    const SampledFrames frames = sample_frames(config_, setup, source, call, log_);
    json content = json::array({{{"type", "text"}, {"text", setup.request.prompt}}});
    for (auto& part : image_parts(frames))
        content.push_back(std::move(part));
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
                      {"prompt_tokens", visual + qwen::estimate_text_tokens(setup.request.prompt.size())}}},
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
        const CallSetup setup = prepare_call(config_, request_json);
        call.progress("probe", -1);
        // Declared before the source, so that staged files are removed after it is closed: Windows refuses to delete
        // a name of a file that is open (a hard link is another name of the video the source holds).
        std::vector<std::unique_ptr<StagedFile>> staged_files;
        MediaSource source = MediaSource::open(setup.request.video, [&] { return call.cancelled(); }, config_.endpoint.timeout_s);
        const DeliveryDecision decision = decide_delivery(source.info(), setup.loadout, config_);
        log_.info("native_video: delivering {} as {} ({})", source.info().source, to_string(decision.mode), decision.why);

        DeliveryMode mode = decision.mode;
        json fallback = nullptr;
        while (true) {
            // The prepared video (a staged file, a media server) lives until its answer is in, or its refusal.
            PreparedVideo video = prepare_video(mode, source, setup, config_, call, log_, true);
            const std::string body = video_chat_body(video, setup);
            const json media_summary = summary(source.info(), decision, video, setup);
            if (video.staged)
                staged_files.push_back(std::move(video.staged));
            try {
                json result = send_request(config_.endpoint, body, setup.stream, media_summary, call, seconds_since(start));
                result["fallback"] = fallback;
                return result.dump();
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
                json result = ask_with_images(source, setup, call, seconds_since(start));
                result["fallback"] = {{"from", to_string(mode)}, {"to", "images"}, {"reason", e.what()}};
                return result.dump();
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
