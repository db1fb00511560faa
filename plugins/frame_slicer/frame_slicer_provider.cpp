#include "frame_slicer_provider.hpp"

#include "core/base64.hpp"
#include "core/call_setup.hpp"
#include "core/chat_body.hpp"
#include "core/error_codes.hpp"
#include "core/frame_budget.hpp"
#include "http/ask_flow.hpp"
#include "media/frame_choice.hpp"
#include "media/frame_extractor.hpp"
#include "media/frame_index.hpp"
#include "media/media_source.hpp"

#include <chrono>
#include <cstdio>

namespace jarvis {
namespace {

using nlohmann::json;

constexpr double default_fps = 2;      // Qwen3-VL's training rate for clips under ~8 minutes
constexpr int64_t default_max_frames = 768;

// "<12.5 seconds>": the notation Qwen3-VL's processor puts before each frame group, which the model was trained on.
std::string time_marker(double seconds)
{
    char text[48];
    std::snprintf(text, sizeof text, "<%.1f seconds>", seconds);
    return text;
}

// HDR transfer functions are converted to 8-bit without tone mapping; say so rather than send flat colours silently.
bool is_hdr(const MediaSource& source)
{
    const auto trc = source.stream()->codecpar->color_trc;
    return trc == AVCOL_TRC_SMPTE2084 || trc == AVCOL_TRC_ARIB_STD_B67;
}

} // namespace

FrameSlicerProvider::FrameSlicerProvider(plugin::Host host, std::string_view config_json)
    : config_(with_status_codes([&] { return parse_provider_config(std::string(config_json), "configuration"); })),
      log_(host)
{
}

json FrameSlicerProvider::build_plan(std::string_view request_json, plugin::Call& call) const
{
    const CallSetup setup = prepare_call(config_, request_json);
    const Loadout& loadout = setup.loadout;
    const auto cancelled = [&] { return call.cancelled(); };

    call.progress("probe", -1);
    MediaSource source = MediaSource::open(setup.request.video, cancelled, config_.endpoint.timeout_s);
    const MediaInfo& media = source.info();
    call.progress("index", -1);
    const auto index = cached_frame_index(source, cancelled);
    call.throw_if_cancelled();

    const double clip_start = loadout.start_s.value_or(0);
    const double clip_s = std::min(loadout.end_s.value_or(index->end_s), index->end_s) - clip_start;
    const int64_t max_tokens = loadout.max_tokens.value_or(default_max_tokens);
    const int64_t text_tokens = qwen::estimate_text_tokens(setup.request.prompt.size());
    const double fps = loadout.fps.value_or(default_fps);
    const int64_t wanted = sample_count(std::max(clip_s, 0.0), fps, loadout.max_frames.value_or(default_max_frames));
    const FrameBudget budget = fit_frame_budget(wanted, media.width, media.height, std::max(clip_s, 0.0), loadout.max_pixels,
                                                loadout.ctx, max_tokens, text_tokens);
    const SeekMode mode = loadout.seek.value_or(SeekMode::exact);
    const FrameChoice choice = choose_frames(*index, budget.frames, fps, loadout.start_s, loadout.end_s, mode);

    ExtractionRequest extraction_request;
    extraction_request.source = media.source;
    extraction_request.width = budget.size.width;
    extraction_request.height = budget.size.height;
    extraction_request.rotation_deg = media.rotation_deg;
    extraction_request.jpeg_quality = config_.frames.jpeg_quality;
    extraction_request.mode = mode;
    ExtractionObserver observer{cancelled, [&](double f) { call.progress("decode", f); }};
    const Extraction extraction = extract_frames(extraction_request, *index, choice.targets, observer);
    log_.debug("frame_slicer: {} frames of {} at {}x{}", extraction.frames.size(), media.source, budget.size.width, budget.size.height);

    json content = json::array({{{"type", "text"}, {"text", setup.request.prompt}}});
    json frames = json::array();
    int64_t visual_tokens = 0;
    for (const EncodedFrame& f : extraction.frames) {
        std::string url = "data:image/jpeg;base64,";
        append_base64(url, f.jpeg);
        content.push_back({{"type", "text"}, {"text", time_marker(f.time_s)}});
        content.push_back({{"type", "image_url"}, {"image_url", {{"url", std::move(url)}}}});
        frames.push_back({{"pts_s", f.time_s}, {"width", f.width}, {"height", f.height}, {"bytes", f.jpeg.size()}});
        visual_tokens += frame_image_tokens({f.width, f.height}, f.time_s);
    }

    json warnings = json::array();
    for (const auto* list : {&budget.warnings, &choice.warnings, &extraction.warnings})
        for (const auto& w : *list)
            warnings.push_back(w);
    if (!index->damage.empty())
        warnings.push_back(index->damage + "; only what decodes is used");
    if (is_hdr(source))
        warnings.push_back("the video is HDR (PQ/HLG); frames are converted to 8-bit without tone mapping and may look flat");
    if (loadout.delivery)
        warnings.push_back("delivery= is ignored: frame_slicer always sends images");

    return json{
        {"plugin", "frame_slicer"},
        {"endpoint", config_.endpoint.base_url},
        {"request", make_chat_body(loadout, std::move(content), setup.request.stream)},
        {"media",
         {{"source", media.source},
          {"delivery", "images"},
          {"duration_s", index->end_s},
          {"width", media.width},
          {"height", media.height},
          {"clip", {{"start_s", choice.start_s}, {"end_s", choice.end_s}}},
          {"seek", to_string(mode)},
          {"frames", std::move(frames)}}},
        {"estimate", {{"frames", extraction.frames.size()}, {"visual_tokens", visual_tokens}, {"prompt_tokens", visual_tokens + text_tokens}}},
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

} // namespace jarvis
