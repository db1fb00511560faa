#include "native_video_provider.hpp"

#include "core/call_setup.hpp"
#include "core/chat_body.hpp"
#include "core/error_codes.hpp"
#include "core/qwen_tokens.hpp"
#include "http/ask_flow.hpp"
#include "media/media_source.hpp"
#include "video_delivery.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>

namespace jarvis {
namespace {

using nlohmann::json;

// What vLLM's Qwen3-VL loader will sample from this video, and what that costs.
json estimate_for(const MediaInfo& media, const Loadout& loadout, const std::string& prompt, json& warnings)
{
    int64_t total = media.frame_count;
    if (total <= 0 && media.duration_s > 0 && media.avg_fps > 0)
        total = static_cast<int64_t>(std::llround(media.duration_s * media.avg_fps));
    std::vector<double> times;
    if (total > 0 && media.avg_fps > 0)
        for (int64_t index : qwen::qwen3_loader_indices(total, media.avg_fps))
            times.push_back(double(index) / media.avg_fps);
    const qwen::VideoEstimate video = qwen::estimate_video(times, media.width, media.height);
    const int64_t prompt_tokens = video.visual_tokens + qwen::estimate_text_tokens(prompt.size());
    if (times.empty())
        warnings.push_back("the video's frame count and rate are unknown, so its token cost could not be estimated");
    if (loadout.ctx) {
        const int64_t needed = prompt_tokens + loadout.max_tokens.value_or(default_max_tokens);
        if (needed > *loadout.ctx)
            warnings.push_back(fmt::format("the request needs about {} tokens (prompt {} + answer {}), more than "
                                           "ctx={}; the server will refuse it",
                                           needed, prompt_tokens, loadout.max_tokens.value_or(default_max_tokens),
                                           *loadout.ctx));
    }
    return json{
        {"frames", video.frames},
        {"resized_width", video.resized.width},
        {"resized_height", video.resized.height},
        {"visual_tokens", video.visual_tokens},
        {"prompt_tokens", prompt_tokens},
    };
}

} // namespace

NativeVideoProvider::NativeVideoProvider(plugin::Host host, std::string_view config_json)
    : config_(with_status_codes([&] { return parse_provider_config(std::string(config_json), "configuration"); })),
      log_(host)
{
}

nlohmann::json NativeVideoProvider::build_plan(std::string_view request_json, plugin::Call& call) const
{
    const CallSetup setup = prepare_call(config_, request_json);
    json warnings = json::array();
    if (setup.loadout.fps || setup.loadout.max_frames || setup.loadout.start_s || setup.loadout.end_s ||
        setup.loadout.max_pixels || setup.loadout.seek)
        warnings.push_back("fps, max_frames, start, end, max_pixels and seek are not yet passed to the server "
                           "by native_video; the server samples with its own settings");

    call.progress("probe", -1);
    const MediaSource source = MediaSource::open(setup.request.video, [&] { return call.cancelled(); },
                                                 config_.endpoint.timeout_s);
    call.throw_if_cancelled();
    const MediaInfo& media = source.info();
    const VideoDelivery delivery = choose_delivery(media, setup.loadout, config_);
    log_.debug("native_video: {} delivered as {}", media.source, delivery.mode);

    json content = json::array({
        {{"type", "video_url"}, {"video_url", {{"url", delivery.url}}}},
        {{"type", "text"}, {"text", setup.request.prompt}},
    });
    json result = {
        {"plugin", "native_video"},
        {"endpoint", config_.endpoint.base_url},
        {"request", make_chat_body(setup.loadout, std::move(content), setup.request.stream)},
        {"media",
         {{"source", media.source},
          {"delivery", delivery.mode},
          {"duration_s", media.duration_s},
          {"width", media.width},
          {"height", media.height}}},
        {"estimate", estimate_for(media, setup.loadout, setup.request.prompt, warnings)},
    };
    result["warnings"] = std::move(warnings);
    return result;
}

std::string NativeVideoProvider::plan(std::string_view request_json, plugin::Call& call)
{
    return with_status_codes([&] {
        const FfmpegLogScope ffmpeg_log(log_);
        return build_plan(request_json, call).dump();
    });
}

std::string NativeVideoProvider::ask(std::string_view request_json, plugin::Call& call)
{
    return with_status_codes([&] {
        const FfmpegLogScope ffmpeg_log(log_);
        const auto start = std::chrono::steady_clock::now();
        const json plan = build_plan(request_json, call);
        const double media_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return send_planned_request(config_.endpoint, plan, call, media_s).dump();
    });
}

} // namespace jarvis
