#include "core/frame_sampling.hpp"

#include "core/base64.hpp"
#include "core/chat_body.hpp"
#include "core/frame_budget.hpp"
#include "core/qwen_tokens.hpp"
#include "media/frame_choice.hpp"
#include "media/playlist_copy.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace jarvis {
namespace {

constexpr double default_fps = 2; // Qwen3-VL's training rate for clips under ~8 minutes
constexpr int64_t default_max_frames = 768;

// Whether `samples` frames of `media` need few enough keyframe intervals that seeking to each reads less than scanning
// the whole file: each sample needs about half an interval, so together less than half the video.
bool few_intervals_needed(const MediaInfo& media, int64_t samples)
{
    // Matroska and WebM (OBS's recordings among them) state no count: an estimate is all this choice needs.
    const int64_t frames = expected_frame_count(media);
    if (media.indexed_keyframes <= 1 || frames <= 0)
        return false;
    const int64_t interval = frames / media.indexed_keyframes;
    return samples * interval < frames;
}

std::shared_ptr<const AVCodecParameters> copied_parameters(const AVCodecParameters& from)
{
    std::shared_ptr<AVCodecParameters> copy(avcodec_parameters_alloc(), av::CodecParametersFreer{});
    if (!copy || avcodec_parameters_copy(copy.get(), &from) < 0)
        throw std::bad_alloc();
    return copy;
}

// The frames' size: the budget's, which fits ctx and max_pixels. A video's frames also share one pixel budget, which
// vLLM applies to what it receives: where that is the smaller, frames are made at its size, so nothing is shrunk again.
qwen::Size frame_size_for(FrameUse use, qwen::Size budget_size, int64_t frames, int width, int height)
{
    if (use != FrameUse::video)
        return budget_size;
    const qwen::Size video = qwen::smart_resize_video(static_cast<int>(std::max<int64_t>(frames, 2)), width, height); // a video has at least 2
    return int64_t(video.width) * video.height < int64_t(budget_size.width) * budget_size.height ? video : budget_size;
}

// A clip's length in a video ending at `video_end`, by the loadout's start and end.
double clip_length(const Loadout& loadout, double video_end)
{
    return std::max(std::min(loadout.end_s.value_or(video_end), video_end) - loadout.start_s.value_or(0), 0.0);
}

// The frames and their size that fit a clip of `clip_s` of `media` in the loadout's token budget.
FrameBudget clip_budget(const CallSetup& setup, const MediaInfo& media, double clip_s)
{
    const Loadout& loadout = setup.loadout;
    return fit_frame_budget(sample_count(clip_s, loadout.fps.value_or(default_fps), loadout.max_frames.value_or(default_max_frames)),
                            media.width, media.height, clip_s, loadout.max_pixels, loadout.ctx,
                            loadout.max_tokens.value_or(default_max_tokens), qwen::question_text_tokens(setup.request.prompt));
}

// The size frames of `media` will be made at, from what its header says, before any frame is chosen: what picks an HLS
// variant. A clip with fewer frames than asked for gives fewer (each a larger share of a video's pixel budget).
qwen::Size wanted_frame_size(const CallSetup& setup, FrameUse use, const MediaInfo& media)
{
    const double clip_s = clip_length(setup.loadout, media.duration_s);
    const FrameBudget budget = clip_budget(setup, media, clip_s);
    const int64_t frames = media.avg_fps > 0 ? std::min<int64_t>(budget.frames, std::llround(clip_s * media.avg_fps)) : budget.frames;
    return frame_size_for(use, budget.size, frames, media.width, media.height);
}

double seconds_since(std::chrono::steady_clock::time_point t)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

MediaSource::VariantSizeWanted variant_size_wanted(const CallSetup& setup, FrameUse use, const PluginLog& log)
{
    return [&setup, use, &log](const MediaInfo& largest) {
        const qwen::Size wanted = wanted_frame_size(setup, use, largest);
        log.debug("frames: '{}' offers {}x{} at the most; the frames will be {}x{}: its smallest variant of at least that "
                  "size is read",
                  largest.source, largest.width, largest.height, wanted.width, wanted.height);
        return std::make_pair(wanted.width, wanted.height);
    };
}

FramePlan plan_frames(const ProviderConfig& config, const CallSetup& setup, MediaSource& source, const plugin::Call& call,
                      const PluginLog& log, FrameUse use)
{
    const auto started = std::chrono::steady_clock::now();
    const Loadout& loadout = setup.loadout;
    const MediaInfo& media = source.info();
    const auto cancelled = [&] { return call.cancelled(); };
    FramePlan p;
    p.mode = loadout.seek.value_or(SeekMode::exact);
    const double fps = loadout.fps.value_or(default_fps);
    const int64_t max_frames = loadout.max_frames.value_or(default_max_frames);
    const double clip_start = loadout.start_s.value_or(0);
    const auto clip_length = [&](double video_end) { return jarvis::clip_length(loadout, video_end); };

    call.progress("index", -1);
    const auto index_progress = [&](double f) { call.progress("index", f); };
    const auto budget_for = [&](double clip_s) { return clip_budget(setup, media, clip_s); };
    // Of an HLS playlist's sizes, the smallest that still gives the frames their size: fewer bytes to fetch and pixels
    // to decode, the same frames for the model. A master whose variants give their sizes was opened at that variant
    // already (variant_size_wanted); this is for one whose sizes only its streams tell.
    if (media.is_playlist) {
        const int width = media.width;
        const int height = media.height;
        const qwen::Size wanted = wanted_frame_size(setup, use, media);
        if (source.use_smallest_variant_covering(wanted.width, wanted.height))
            log.debug("frames: '{}' is read at {}x{} of its {}x{}, since the frames are {}x{}", media.source, media.width,
                      media.height, width, height, wanted.width, wanted.height);
    }
    // A URL's copy on this machine's disk: the scan and the decoding read it (the decoding with every core), not the
    // network twice.
    const auto read_local_copy = [&](std::shared_ptr<const DownloadedCopy> copy) {
        p.local_copy = std::move(copy);
        MediaSource opened = MediaSource::open(p.local_copy->path(), cancelled);
        const auto scanning = [&](double f) { index_progress(0.9 + 0.1 * f); };
        p.index = std::make_shared<const FrameIndex>(scan_frame_index(opened, cancelled, scanning));
        p.request.local_copy = p.local_copy->path();
        // The decoding reads the copy: its stream, and its codec parameters (a playlist's MP4 copy holds the codec's
        // headers as MP4 does, not as the segments did).
        p.request.stream_index = opened.stream_index();
        p.local_copy_codec = copied_parameters(*opened.stream()->codecpar);
    };
    // The copy is most of the work, the scan of it on this machine's disk the rest: one progress, rising.
    const auto copying = [&](double f) { index_progress(0.9 * f); };
    // A server without range requests sends each read from the file's start: what opening it read is in a copy
    // already, and the rest is read on into it, once. (A playlist's text is not the video: its segments are copied.)
    if (source.reads_url_in_order() && !media.is_playlist)
        read_local_copy(source.finish_in_order_copy(copying));
    // A full index already at hand is used; otherwise what the frames need is found by seeking where that reads less
    // than a scan: keyframe mode's keyframes, and exact mode's keyframe intervals when few of them are needed.
    if (!p.index)
        p.index = cached_frame_index(source, cancelled, false, index_progress);
    bool sparse_index = false; // only the keyframe intervals the frames need: the rest is missing by design
    if (!p.index) {
        const double clip = clip_length(media.duration_s);
        std::optional<FrameIndex> sparse;
        if (clip > 0 && p.mode == SeekMode::keyframe)
            sparse = keyframe_index_by_seeking(source, sample_times(sample_count(clip, fps, max_frames), fps, clip_start, clip_start + clip));
        else if (clip > 0 && few_intervals_needed(media, sample_count(clip, fps, max_frames)))
            sparse = interval_index_by_seeking(source, sample_times(budget_for(clip).frames, fps, clip_start, clip_start + clip),
                                               cancelled);
        if (sparse) {
            sparse_index = true;
            p.index = std::make_shared<const FrameIndex>(std::move(*sparse));
        } else if (media.is_url || (media.is_playlist && saved_playlist_names_network(media.source))) {
            // A URL scanned and then decoded would be downloaded about twice: it is downloaded once, into a copy that
            // both read. A playlist's bytes are not the video (its segments are elsewhere, a saved playlist's too):
            // what its segments hold is copied instead.
            std::string why_not;
            auto copy = media.is_playlist ? copy_playlist(source, cancelled, copying, why_not)
                                          : download_copy(media.source, cancelled, copying, config.video_url.timeout_s, why_not);
            if (copy)
                read_local_copy(std::move(copy));
            else
                log.warn("frames: '{}' is read over the network twice: {}", media.source, why_not);
        }
        if (!p.index)
            p.index = cached_frame_index(source, cancelled, true, index_progress);
    }
    call.throw_if_cancelled();
    log.debug("frames: index of {} frames in {:.3f} s", p.index->frames.size(), seconds_since(started));

    FrameBudget budget = budget_for(clip_length(p.index->end_s));
    p.choice = choose_frames(*p.index, budget.frames, fps, loadout.start_s, loadout.end_s, p.mode);
    // One keyframe for the whole clip (a GIF stores only its first picture whole; some streams refresh without
    // keyframes): keyframe mode would send that one picture, and the model would see a still where the video moves.
    // Its frames are decoded exactly instead, from that keyframe on, when that gives more than one.
    if (p.mode == SeekMode::keyframe && p.choice.targets.size() < 2 && budget.frames >= 2) {
        // The keyframes were found by seeking: the scan starts from the first packet again.
        if (sparse_index)
            source.rewind_to_start();
        std::shared_ptr<const FrameIndex> full = sparse_index ? cached_frame_index(source, cancelled, true, index_progress) : p.index;
        const FrameBudget full_budget = budget_for(clip_length(full->end_s));
        FrameChoice exact = choose_frames(*full, full_budget.frames, fps, loadout.start_s, loadout.end_s, SeekMode::exact);
        if (exact.targets.size() >= 2) {
            log.debug("frames: '{}' has one keyframe in the clip: exact frames instead", media.source);
            exact.warnings.push_back(fmt::format("the clip has one keyframe, which seek=keyframe would send alone: its {} frames are "
                                                 "decoded exactly instead (seek=exact)",
                                                 exact.targets.size()));
            p.index = std::move(full);
            sparse_index = false;
            budget = full_budget;
            p.choice = std::move(exact);
            p.mode = SeekMode::exact;
        }
    }

    ExtractionRequest& request = p.request;
    request.source = media.source;
    request.read_url = media.read_url;
    if (!p.local_copy_codec)
        request.stream_index = source.stream_index();
    request.codec = p.local_copy_codec ? p.local_copy_codec.get() : source.stream()->codecpar;
    request.url_cache = source.url_cache(); // what the index's pass read is not fetched again
    const qwen::Size size = frame_size_for(use, budget.size, static_cast<int64_t>(p.choice.targets.size()), media.width, media.height);
    request.width = size.width;
    request.height = size.height;
    request.rotation_deg = media.rotation_deg;
    request.jpeg_quality = config.frames.jpeg_quality;
    request.mode = p.mode;
    request.io_timeout_s = config.video_url.timeout_s;
    request.skip_unused_references = config.frames.skip_references;
    request.decode_memory_bytes = config.frames.decode_memory_bytes;
    const HardwareChoice gpu = HardwareDevices::process_wide().choose(config.frames.hardware_decode);
    request.hardware = gpu.device;
    // "auto" finds no GPU on most machines: its fall back is only logged. A device asked for by name is the user's
    // expectation, and a fall back from it is told.
    const bool gpu_named = config.frames.hardware_decode != "auto";
    p.hardware_named = gpu.device && gpu_named;

    p.warnings = budget.warnings;
    if (!gpu.unavailable.empty()) {
        log.debug("frames: '{}' is decoded in software: {}", media.source, gpu.unavailable);
        if (gpu_named)
            p.warnings.push_back(fmt::format("frames.hardware_decode is \"{}\", but {}: the frames were decoded in software",
                                             config.frames.hardware_decode, gpu.unavailable));
    }
    p.warnings.insert(p.warnings.end(), p.choice.warnings.begin(), p.choice.warnings.end());
    // FFmpeg's HLS reader skips a segment it cannot read (a silent server, a 404), and says so only in its log.
    if (media.is_playlist && !sparse_index)
        if (const auto gap = unusual_gap(*p.index))
            p.warnings.push_back(fmt::format("'{}' has no frames from {:.1f} s to {:.1f} s: a segment of the playlist could "
                                             "not be read (the debug log names it)",
                                             media.source, gap->from_s, gap->to_s));
    return p;
}

SampledFrames extract_planned(const FramePlan& plan, const plugin::Call& call, const PluginLog& log,
                              std::function<void(const EncodedFrame&)> frame_ready, bool keep_jpegs)
{
    SampledFrames s;
    s.source = plan.request.source;
    s.index = plan.index;
    s.mode = plan.mode;
    s.clip_start_s = plan.choice.start_s;
    s.clip_end_s = plan.choice.end_s;
    const auto decoding = std::chrono::steady_clock::now();
    s.extraction = extract_frames(plan.request, *plan.index, plan.choice.targets,
                                  {[&] { return call.cancelled(); }, [&](double f) { call.progress("decode", f); }, std::move(frame_ready), keep_jpegs});
    const DecodeParallelism& decoding_on = s.extraction.parallelism;
    log.debug("frames: {} sampled at {}x{} in {:.3f} s, {} pictures decoded for them ({} on {}), {} reference pictures skipped; "
              "{} decoders x {} threads, {} MB{}",
              s.extraction.frames.size(), plan.request.width, plan.request.height, seconds_since(decoding), s.extraction.pictures_decoded,
              s.extraction.pictures_on_gpu, plan.request.hardware ? plan.request.hardware->name : "no GPU", s.extraction.skipped_references,
              decoding_on.workers, decoding_on.threads, decoding_on.bytes / (1024 * 1024),
              decoding_on.limited ? " (fewer than the cores: frames.decode_memory_mb)" : "");

    s.warnings = plan.warnings;
    s.warnings.insert(s.warnings.end(), s.extraction.warnings.begin(), s.extraction.warnings.end());
    // The device opened, but this stream's codec or profile is not one it decodes (FFmpeg fell back by itself).
    if (plan.hardware_named && s.extraction.pictures_on_gpu == 0 && s.extraction.pictures_decoded > 0)
        s.warnings.push_back(fmt::format("frames.hardware_decode: {} did not decode '{}' ({} is not a codec or profile it takes "
                                         "here): the frames were decoded in software",
                                         plan.request.hardware->name, s.source, avcodec_get_name(plan.request.codec->codec_id)));
    if (!s.index->damage.empty())
        s.warnings.push_back(s.index->damage + "; only what decodes is used");
    return s;
}

SampledFrames sample_frames(const ProviderConfig& config, const CallSetup& setup, MediaSource& source, const plugin::Call& call,
                            const PluginLog& log, FrameUse use)
{
    return extract_planned(plan_frames(config, setup, source, call, log, use), call, log);
}

std::vector<double> planned_times(const FramePlan& plan)
{
    std::vector<double> times;
    for (const FrameTarget& t : plan.choice.targets)
        times.push_back(t.time_s);
    return times;
}

nlohmann::json frame_image_parts(const EncodedFrame& frame)
{
    std::string url = "data:image/jpeg;base64,";
    append_base64(url, frame.jpeg);
    return nlohmann::json::array({{{"type", "text"}, {"text", qwen::timestamp_marker(frame.time_s)}},
                                  {{"type", "image_url"}, {"image_url", {{"url", std::move(url)}}}}});
}

nlohmann::json image_parts(const SampledFrames& frames)
{
    nlohmann::json parts = nlohmann::json::array();
    for (const EncodedFrame& f : frames.extraction.frames)
        for (nlohmann::json& part : frame_image_parts(f))
            parts.push_back(std::move(part));
    return parts;
}

nlohmann::json frame_list(const SampledFrames& frames)
{
    nlohmann::json list = nlohmann::json::array();
    for (const EncodedFrame& f : frames.extraction.frames)
        list.push_back({{"pts_s", f.time_s}, {"width", f.width}, {"height", f.height}, {"bytes", f.jpeg_bytes}});
    return list;
}

int64_t image_tokens(const SampledFrames& frames)
{
    int64_t total = 0;
    for (const EncodedFrame& f : frames.extraction.frames)
        total += frame_image_tokens({f.width, f.height}, f.time_s);
    return total;
}

} // namespace jarvis
