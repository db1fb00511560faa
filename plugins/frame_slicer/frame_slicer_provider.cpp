#include "frame_slicer_provider.hpp"

#include "core/call_setup.hpp"
#include "core/chat_body.hpp"
#include "core/error_codes.hpp"
#include "core/frame_sampling.hpp"
#include "core/qwen_tokens.hpp"
#include "http/ask_flow.hpp"
#include "tools/host_tools.hpp"
#include "media/media_source.hpp"

#include <chrono>

namespace jarvis {
using nlohmann::json;

FrameSlicerProvider::FrameSlicerProvider(plugin::Host host, std::string_view config_json)
    : config_(with_status_codes([&] { return parse_provider_config(std::string(config_json), "configuration"); })),
      log_(host)
{
}

json FrameSlicerProvider::build_plan(std::string_view request_json, plugin::Call& call) const
{
    const CallSetup setup = prepare_call(config_, request_json);
    call.progress("probe", -1);
    MediaSource source = MediaSource::open(setup.request.video, [&] { return call.cancelled(); }, config_.endpoint.timeout_s);
    const MediaInfo& media = source.info();
    const SampledFrames frames = sample_frames(config_, setup, source, call, log_);
    log_.debug("frame_slicer: {} frames of {}", frames.extraction.frames.size(), media.source);

    json content = json::array({{{"type", "text"}, {"text", setup.request.prompt}}});
    for (auto& part : image_parts(frames))
        content.push_back(std::move(part));
    json warnings(setup.warnings);
    for (const auto& w : frames.warnings)
        warnings.push_back(w);
    const int64_t visual = image_tokens(frames);
    return json{
        {"plugin", "frame_slicer"},
        {"endpoint", config_.endpoint.base_url},
        {"request", make_chat_body(setup.loadout, std::move(content), setup.stream)},
        {"media",
         {{"source", media.source},
          {"delivery", "images"},
          {"duration_s", frames.index->end_s},
          {"width", media.width},
          {"height", media.height},
          {"clip", {{"start_s", frames.clip_start_s}, {"end_s", frames.clip_end_s}}},
          {"seek", to_string(frames.mode)},
          {"frames", frame_list(frames)}}},
        {"estimate",
         {{"frames", frames.extraction.frames.size()},
          {"visual_tokens", visual},
          {"prompt_tokens", visual + qwen::estimate_text_tokens(setup.request.prompt.size())}}},
        {"warnings", std::move(warnings)},
    };
}

std::string FrameSlicerProvider::plan(std::string_view request_json, plugin::Call& call)
{
    return with_status_codes([&] {
        const FfmpegLogScope ffmpeg_log(log_);
        return build_plan(request_json, call).dump();
    });
}

std::string FrameSlicerProvider::ask(std::string_view request_json, plugin::Call& call)
{
    return with_status_codes([&] {
        const FfmpegLogScope ffmpeg_log(log_);
        const auto start = std::chrono::steady_clock::now();
        const json plan = build_plan(request_json, call);
        const double media_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return send_planned_request(config_.endpoint, plan, call, media_s).dump();
    });
}

std::string FrameSlicerProvider::tool(std::string_view request_json, plugin::Call& call)
{
    return with_status_codes([&] { return run_host_tool(request_json, config_, {}, call); });
}

} // namespace jarvis
