#include "video_delivery.hpp"

#include "config/config_error.hpp"
#include "core/base64.hpp"
#include "core/chat_body.hpp"
#include "core/frame_budget.hpp"
#include "core/media_part_cache.hpp"
#include "http/body_slot.hpp"
#include "media/media_error.hpp"
#include "platform/native_path.hpp"
#include "volume_paths.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <thread>

namespace jarvis {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// vLLM computes each frame's time as index / fps. With 1000 "frames" per second the indices are milliseconds, so
// frames sent by the client keep their true times, variable frame rate included.
constexpr double frames_time_base = 1000;

bool endpoint_is_local(const std::string& base_url)
{
    const size_t start = base_url.find("://");
    std::string host = base_url.substr(start == std::string::npos ? 0 : start + 3);
    host = host.substr(0, host.find('/'));
    if (!host.empty() && host.front() == '[')
        host = host.substr(1, host.find(']') - 1);
    else
        host = host.substr(0, host.find(':'));
    return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string advertised_host(const HttpDeliveryConfig& http)
{
    if (!http.advertise.empty())
        return http.advertise;
    // Without an advertised name, a server bound to one address is reached at that address.
    return http.bind == "0.0.0.0" || http.bind == "::" ? std::string() : http.bind;
}

// The file:// URL of `video` inside the volume, when it is there (after resolving symlinks, as vLLM will).
std::optional<std::string> volume_url(const MediaInfo& media, const InputDataConfig& volume)
{
    std::error_code ec;
    const fs::path file = fs::weakly_canonical(fs::absolute(native_path(media.source)), ec);
    if (ec)
        return std::nullopt;
    // A host path in another system's form is compared as given; one of this system's after resolving symlinks.
    fs::path root = native_path(volume.host_path);
    if (fs::exists(root, ec))
        root = fs::weakly_canonical(root, ec);
    return map_host_path(utf8_path(file), utf8_path(root), volume.container_path);
}

// vLLM's qwen3_vl loader samples at media_io_kwargs.video.fps (default 2), 4 to 768 frames; num_frames is ignored by
// it but must be sent with fps, or the server's num_frames is dropped (and older loaders cut to 32).
json video_kwargs_for(double fps) { return json{{"fps", fps}, {"num_frames", -1}}; }

qwen::VideoEstimate loader_estimate(const MediaInfo& media, double fps)
{
    const int64_t total = expected_frame_count(media);
    std::vector<double> times;
    if (total > 0 && media.avg_fps > 0)
        for (int64_t index : qwen::qwen3_loader_indices(total, media.avg_fps, fps))
            times.push_back(double(index) / media.avg_fps);
    return qwen::estimate_video(times, media.width, media.height);
}

// The sampling rate for deliveries where the server samples: the loadout's fps, lowered for max_frames and for ctx.
double server_fps(const MediaInfo& media, const CallSetup& setup, std::vector<std::string>& warnings, qwen::VideoEstimate& estimate)
{
    const Loadout& l = setup.loadout;
    double fps = l.fps.value_or(qwen::qwen3_loader_fps);
    if (l.max_frames && media.duration_s > 0 && fps * media.duration_s > double(*l.max_frames)) {
        fps = double(*l.max_frames) / media.duration_s;
        warnings.push_back(fmt::format("vLLM's qwen3_vl loader ignores a frame count, so max_frames={} is sent as fps={:.3f}",
                                       *l.max_frames, fps));
    }
    estimate = loader_estimate(media, fps);
    if (!l.ctx)
        return fps;
    const int64_t room = *l.ctx - l.max_tokens.value_or(default_max_tokens) - qwen::question_text_tokens(setup.request.prompt);
    const double asked = fps;
    while (estimate.visual_tokens > room && estimate.frames > qwen::loader_min_frames) {
        fps *= 0.8;
        estimate = loader_estimate(media, fps);
    }
    if (fps < asked)
        warnings.push_back(fmt::format("fps lowered from {:.3g} to {:.3g} so that the video (about {} tokens) fits ctx={}", asked,
                                       fps, estimate.visual_tokens, *l.ctx));
    if (estimate.visual_tokens > room)
        warnings.push_back(fmt::format("even at {} frames the video needs about {} tokens, more than ctx={} leaves; the server "
                                       "will refuse it",
                                       estimate.frames, estimate.visual_tokens, *l.ctx));
    return fps;
}


// How far off a frame time vLLM prints may be before frames delivery, which sends the true ones, is preferred. It
// prints tenths; a phone that drops the odd frame stays well within this, a screen recording does not.
constexpr double tolerated_time_error_s = 1.0;

// The video stream the server's loader would read where it is not the video: OpenCV takes a file's first video
// stream, TorchCodec FFmpeg's pick.
std::optional<std::string> stream_the_server_would_read(const MediaInfo& media, const std::string& video_decoder)
{
    const bool torchcodec = video_decoder == "torchcodec";
    const std::string& other = torchcodec ? media.best_video_stream_if_other : media.first_video_stream_if_other;
    if (other.empty())
        return std::nullopt;
    return fmt::format("the server's loader would read its {} video stream ({}), not the video ({}x{}): a cover picture "
                       "or another camera's view",
                       torchcodec ? "preferred" : "first", other, media.width, media.height);
}

// What the server's loader makes of HDR video (OpenCV, PyAV and TorchCodec alike convert it to RGB without tone mapping).
constexpr std::string_view hdr_unmapped = "it is HDR (PQ or HLG, as phones record): the server's loader converts it to "
                                          "8-bit colour without tone mapping, so the model would see it flat and dim";

// Why the server's loader, which samples over the frame count the header gives (OpenCV's) and times each frame by its
// position at the average rate, would fail this video or show the model less of it, or at the wrong times, than we
// would; nothing when it can sample it well. Frames delivery samples what decodes, at the frames' own times.
// - Qwen3-VL takes a video as pairs of frames: one the loader samples fewer than two frames of is refused ("t:1 must
//   be larger than temporal_factor:2"). The loader takes at least 4 frames or every one there is, so that is a video
//   of one frame (a still picture, a one-frame clip); frames delivery sends its frame twice.
// - A header with no count and no duration (a recording its writer never finished, a browser's WebM) gives OpenCV a
//   negative count, which the loader refuses.
// - An index that lists frames past the file's end (an MP4 cut short) has the loader sample over the whole length
//   and lose every sample past the cut: the model gets the start only, at fewer frames than asked for.
// - A variable frame rate (a screen recorder that stores a frame only when the picture changes, a phone slowing down
//   in the dark) makes position / average rate a wrong time: the model would be told when things happen wrongly.
// - HDR (PQ, HLG) is converted to 8-bit colour by the loader's decoder without tone mapping: the model would see it
//   flat and dim, where our frames are tone mapped.
std::optional<std::string> server_sampling_problem(const MediaInfo& media, const std::string& video_decoder)
{
    if (media.is_playlist)
        return std::string("it is an HLS playlist: the server's loader would take the playlist's text for the video, "
                           "while the video is in the segments it lists");
    if (const auto other = stream_the_server_would_read(media, video_decoder))
        return *other;
    const int64_t total = expected_frame_count(media);
    if (total <= 0)
        return "its header gives no frame count for the server's loader to sample from";
    if (total < 2)
        return std::string("the server's loader would take 1 frame of it, and Qwen3-VL needs two or more");
    if (media.index_cut_at_s)
        return fmt::format("the file ends at about {:.1f} s although its header says {:.1f} s (cut short?): the server's "
                           "loader would sample the whole length and lose what is past the end",
                           *media.index_cut_at_s, media.duration_s);
    if (media.average_rate_error_s > tolerated_time_error_s)
        return fmt::format("its frame rate varies: the server's loader times frames by their count at the average rate, "
                           "up to {:.1f} s off their true times",
                           media.average_rate_error_s);
    if (media.hdr)
        return std::string(hdr_unmapped) + ", while frames are tone mapped";
    return std::nullopt;
}

// Frames delivery must be expected this much sooner, relatively and in seconds, to be chosen over a pointer.
constexpr double frames_advantage = 0.8;
constexpr double min_frames_saving_s = 0.5;

// The work each delivery implies for this video and loadout: the frames vLLM's loader decodes (every one up to the
// last it samples, at the loadout's fps or max_frames; with TorchCodec those from each sample's keyframe to it) and
// the frames our frames delivery would send, at their size.
VideoWork expected_work(const MediaInfo& media, const Loadout& loadout, const std::string& server_decoder, int64_t decode_memory_bytes)
{
    double fps = loadout.fps.value_or(qwen::qwen3_loader_fps);
    if (loadout.max_frames && media.duration_s > 0 && fps * media.duration_s > double(*loadout.max_frames))
        fps = double(*loadout.max_frames) / media.duration_s;
    const int64_t total = expected_frame_count(media);
    int64_t last_index = total - 1;
    if (total > 0 && media.avg_fps > 0)
        if (const auto indices = qwen::qwen3_loader_indices(total, media.avg_fps, fps); !indices.empty())
            last_index = indices.back();
    int64_t sampled =
        media.duration_s > 0 ? sample_count(media.duration_s, loadout.fps.value_or(2), loadout.max_frames.value_or(qwen::loader_max_frames)) : 2;
    // A ctx takes fewer, smaller frames (122 instead of 768 of 10 minutes at ctx=16384), as the frames delivery will.
    // The question's few tokens are left out; a ctx too small for any frame is reported by the delivery itself.
    std::optional<qwen::Size> fitted;
    if (loadout.ctx && media.duration_s > 0) {
        try {
            const FrameBudget budget = fit_frame_budget(sampled, media.width, media.height, media.duration_s, loadout.max_pixels,
                                                        loadout.ctx, loadout.max_tokens.value_or(default_max_tokens), 0);
            sampled = budget.frames;
            fitted = budget.size;
        } catch (const ConfigError&) {
        }
    }
    qwen::Size sent = qwen::smart_resize_video(static_cast<int>(sampled), media.width, media.height);
    if (fitted && int64_t(fitted->width) * fitted->height < int64_t(sent.width) * sent.height)
        sent = *fitted;
    VideoWork work = video_work(media, last_index, sampled, double(sent.width) * double(sent.height) / 1e6);
    work.cores = std::max(1u, std::thread::hardware_concurrency());
    work.decode_memory_bytes = decode_memory_bytes;
    if (server_decoder == "torchcodec")
        work.server_decoded = std::min(work.server_decoded, frames_decoded_seeking(work, 1.0));
    return work;
}

} // namespace

std::string_view to_string(DeliveryMode mode)
{
    switch (mode) {
    case DeliveryMode::url: return "url";
    case DeliveryMode::file: return "file";
    case DeliveryMode::http: return "http";
    case DeliveryMode::data: return "data";
    case DeliveryMode::frames: return "frames";
    }
    return "url";
}

std::string video_mime_type(const std::string& container)
{
    if (container.find("webm") != std::string::npos || container.find("matroska") != std::string::npos)
        return "video/webm";
    if (container == "avi")
        return "video/x-msvideo";
    if (container == "mpegts")
        return "video/mp2t";
    return "video/mp4"; // vLLM sniffs the container and ignores the declared type
}

DeliveryDecision decide_delivery(const MediaInfo& media, const Loadout& loadout, const ProviderConfig& config,
                                 const DeliveryRates& rates, const StagedCopies* staged_copies)
{
    const Delivery wanted = loadout.delivery.value_or(Delivery::automatic);
    const bool clipped = loadout.start_s || loadout.end_s;
    if (wanted == Delivery::frames)
        return {DeliveryMode::frames, "delivery=frames"};
    if (media.is_url) {
        if (wanted != Delivery::automatic)
            throw ConfigError(fmt::format("delivery={} is not available for the URL '{}': URLs go to the server as they are "
                                          "(or use delivery=frames)",
                                          to_string(wanted), media.source));
        if (clipped)
            return {DeliveryMode::frames, "start/end clip the video, which vLLM cannot do"};
        if (const auto unsampled = server_sampling_problem(media, config.vllm.video_decoder))
            return {DeliveryMode::frames, *unsampled};
        return {DeliveryMode::url, "an http(s) URL is passed through"};
    }
    if (clipped && wanted != Delivery::automatic)
        throw ConfigError(fmt::format("start/end cannot be applied with delivery={}: vLLM has no clipping; use delivery=frames "
                                      "or delivery=auto",
                                      to_string(wanted)));
    switch (wanted) {
    case Delivery::file:
        if (!config.input_data.configured())
            throw ConfigError("delivery=file needs the shared volume: set input_data.host_path and input_data.container_path "
                              "(or --input-data-host and --input-data-container)");
        return {DeliveryMode::file, "delivery=file"};
    case Delivery::http:
        if (advertised_host(config.http_delivery).empty())
            throw ConfigError(fmt::format("delivery=http needs the host name the server reaches this machine by: set "
                                          "http_delivery.advertise (or --http-advertise), e.g. host.docker.internal; "
                                          "http_delivery.bind is {}",
                                          config.http_delivery.bind));
        return {DeliveryMode::http, "delivery=http"};
    case Delivery::data:
        if (media.size_bytes > config.data_delivery.max_bytes)
            throw ConfigError(fmt::format("video '{}' is {:.1f} MB, above the {} MB limit of delivery=data "
                                          "(data_delivery.max_mb); use delivery=file with a shared volume, delivery=http or "
                                          "delivery=frames",
                                          media.source, media.size_bytes / 1e6, config.data_delivery.max_bytes / (1024 * 1024)));
        return {DeliveryMode::data, "delivery=data"};
    default: break;
    }
    if (clipped)
        return {DeliveryMode::frames, "start/end clip the video, which vLLM cannot do"};
    std::string volume_note;
    std::optional<DeliveryMode> pointer;
    std::string pointer_why;
    int64_t staged_copy_bytes = 0; // file: a video on another volume is copied into the shared one first
    if (config.input_data.configured() && endpoint_is_local(config.endpoint.base_url)) {
        // A video outside the volume is staged into it: only a volume that takes files will do.
        const bool outside = !volume_url(media, config.input_data);
        const fs::path volume_root = native_path(config.input_data.host_path);
        const fs::path video = native_path(media.source);
        // A follow-up's video copied already needs neither room nor time: ask uses that copy.
        const bool copied_before = outside && staged_copies && staged_copies->kept_copy_of(video, volume_root);
        const uintmax_t freed = staged_copies ? staged_copies->bytes_freed_by_next_copy(volume_root) : 0;
        const auto problem = outside && !copied_before ? staging_problem(volume_root, video, freed) : std::nullopt;
        if (!problem) {
            pointer = DeliveryMode::file;
            pointer_why = "a shared volume is configured and the server is on this machine";
            if (copied_before) {
                pointer_why += " (the video is on another volume: the copy made for an earlier question is used)";
            } else if (outside && staging_copies(video, volume_root)) {
                staged_copy_bytes = std::max<int64_t>(0, media.size_bytes);
                pointer_why += fmt::format(" (the video is on another volume: it would be copied into it, {})", readable_size(staged_copy_bytes));
            }
        } else {
            volume_note = "the video cannot be staged (" + *problem + "); ";
        }
    }
    if (!pointer && !config.http_delivery.advertise.empty()) {
        pointer = DeliveryMode::http;
        pointer_why = volume_note + "an advertised host is configured";
    }
    if (!pointer)
        return {DeliveryMode::frames, volume_note.empty() ? "no shared volume for a local server and no advertised host"
                                                          : volume_note + "no advertised host"};
    if (const auto unsampled = server_sampling_problem(media, config.vllm.video_decoder))
        return {DeliveryMode::frames, pointer_why + ", but " + *unsampled};
    VideoWork work = expected_work(media, loadout, config.vllm.video_decoder, config.frames.decode_memory_bytes);
    work.staged_copy_bytes = staged_copy_bytes;
    const double pointer_s = delivery_seconds(to_string(*pointer), work, rates);
    const double frames_s = delivery_seconds("frames", work, rates);
    const nlohmann::json estimates = {{std::string(to_string(*pointer)), pointer_s}, {"frames", frames_s}};
    // Our decoding counted at a measured rate (the GPU's, by probe) rather than the CPU's default: said, so that a
    // choice that follows from it can be traced to it.
    const std::string our_rate = rates.client_decode_ms_per_megapixel != DeliveryRates{}.client_decode_ms_per_megapixel
                                     ? fmt::format(" at {:.2g} ms per megapixel (delivery_costs.client_decode_ms_per_megapixel)",
                                                   rates.client_decode_ms_per_megapixel)
                                     : std::string();
    // Frames only when clearly faster: they load this machine (which also runs speech) and the estimate is rough.
    if (frames_s < pointer_s * frames_advantage && pointer_s - frames_s > min_frames_saving_s)
        return {DeliveryMode::frames,
                fmt::format("{}, but frames are expected at the server sooner ({:.1f} s against {:.1f} s: the server decodes "
                            "{} frames to sample this video, we decode about {} of them{})",
                            pointer_why, frames_s, pointer_s, work.server_decoded, expected_client_frames(work, rates), our_rate),
                estimates};
    return {*pointer, fmt::format("{} (expected {:.1f} s, frames {:.1f} s{})", pointer_why, pointer_s, frames_s, our_rate), estimates};
}

PreparedVideo prepare_video(DeliveryMode mode, MediaSource& source, const CallSetup& setup, const ProviderConfig& config,
                            const plugin::Call& call, const PluginLog& log, bool for_real, const std::string& media_key,
                            StagedCopies& staged_copies)
{
    const MediaInfo& media = source.info();
    PreparedVideo v;
    v.mode = mode;
    if (mode == DeliveryMode::frames) {
        if (const auto cached = media_key.empty() || config.conversation.cache_bytes <= 0 ? nullptr : find_cached_media(media_key)) {
            v.url = cached->parts.at("url").get<std::string>();
            v.video_kwargs = cached->parts.at("video_kwargs");
            v.frame_list = cached->media_summary.at("frames");
            v.frames_end_s = cached->media_summary.at("end_s").get<double>();
            v.estimate = qwen::estimate_video(cached->estimate.at("times").get<std::vector<double>>(),
                                              cached->estimate.at("width").get<int>(), cached->estimate.at("height").get<int>());
            v.warnings = cached->warnings;
            v.from_cache = true;
            return v;
        }
        FramePlan plan = plan_frames(config, setup, source, call, log, FrameUse::video);
        if (plan.choice.targets.empty())
            throw MediaError(fmt::format("cannot use video '{}': no frame could be sampled", media.source));
        std::vector<double> times = planned_times(plan);
        if (times.size() == 1)
            times.push_back(times.front());
        v.estimate = qwen::estimate_video(times, plan.request.width, plan.request.height);
        v.frames_end_s = plan.index->end_s;
        v.warnings = plan.warnings;
        v.frames_plan = std::move(plan);
        if (!for_real)
            decode_planned_frames(v, config, call, log, media_key);
        return v;
    }

    const bool sampling_set = setup.loadout.fps || setup.loadout.max_frames || setup.loadout.ctx;
    const double fps = server_fps(media, setup, v.warnings, v.estimate);
    if (media.index_cut_at_s) // only where delivery= asked for the file as it is: auto sends what decodes
        v.warnings.push_back(fmt::format("the file ends at about {:.1f} s although its header says {:.1f} s (cut short?): the "
                                         "server samples the whole length, so the model gets fewer frames than estimated, "
                                         "all from before the end; delivery=frames or auto would sample what is there",
                                         *media.index_cut_at_s, media.duration_s));
    if (const auto other = stream_the_server_would_read(media, config.vllm.video_decoder))
        v.warnings.push_back(*other + "; delivery=frames or auto would send the video");
    if (media.average_rate_error_s > tolerated_time_error_s)
        v.warnings.push_back(fmt::format("the video's frame rate varies: the server times frames by their count at the "
                                         "average rate, up to {:.1f} s off their true times; delivery=frames or auto would "
                                         "send the true times",
                                         media.average_rate_error_s));
    if (media.hdr)
        v.warnings.push_back(std::string(hdr_unmapped) + "; delivery=frames or auto would send it tone mapped");
    if (sampling_set)
        v.video_kwargs = video_kwargs_for(fps);
    if (setup.loadout.max_pixels || setup.loadout.seek)
        v.warnings.push_back("max_pixels and seek apply to frames sampled by the client (delivery=frames); the server samples this video itself");

    switch (mode) {
    case DeliveryMode::url: v.url = media.source; break;
    case DeliveryMode::file: {
        if (auto url = volume_url(media, config.input_data)) {
            v.url = *url;
            break;
        }
        // Outside the volume: staged into it for the request.
        const std::string container = config.input_data.container_path;
        std::string relative;
        const fs::path video = native_path(media.source);
        const fs::path volume_root = native_path(config.input_data.host_path);
        v.staged_into_volume = true;
        if (for_real) {
            const auto copying = [&call](double fraction) {
                call.progress("staging", fraction);
                return !call.cancelled();
            };
            auto staged = staged_copies.stage(video, volume_root, copying);
            v.staged = std::move(staged.file);
            if (!v.staged->linked())
                v.staged_copy = staged.reused ? "reused" : "made";
            relative = v.staged->relative_path();
        } else if (const auto kept = staged_copies.kept_copy_of(video, volume_root)) {
            relative = kept->relative_path();
            v.warnings.push_back("the video is outside the shared volume, on another volume: the copy made for an earlier question "
                                 "is used (no copy)");
        } else {
            if (const auto problem = staging_problem(volume_root, video, staged_copies.bytes_freed_by_next_copy(volume_root)))
                throw ConfigError(*problem); // what ask would say
            relative = StagedFile::preview_relative_path(video);
            v.warnings.push_back(staging_copies(video, volume_root)
                                     ? fmt::format("the video is outside the shared volume, on another volume: it is copied into it "
                                                   "when asking ({}) and the copy is kept for follow-up questions",
                                                   readable_size(std::max<int64_t>(0, media.size_bytes)))
                                     : std::string("the video is outside the shared volume: it is linked into it when asking (a hard "
                                                   "link: no copy) and removed afterwards"));
        }
        const auto url = map_host_path(config.input_data.host_path + "/" + relative,
                                       config.input_data.host_path, container);
        if (!url)
            throw ConfigError(fmt::format("input_data.host_path '{}' is not an absolute path", config.input_data.host_path));
        v.url = *url;
        break;
    }
    case DeliveryMode::http: {
        const std::string host = advertised_host(config.http_delivery);
        if (for_real) {
            v.server = std::make_unique<MediaServer>(config.http_delivery.bind, host, native_path(media.source), video_mime_type(media.container));
            v.url = v.server->url();
        } else {
            v.url = media_url_preview(host, media.source);
            v.warnings.push_back("the media server's port and path are chosen when asking");
        }
        break;
    }
    case DeliveryMode::data:
        v.data_path = media.source;
        v.data_mime = video_mime_type(media.container);
        break;
    case DeliveryMode::frames: break;
    }
    return v;
}

std::string frames_url_prefix() { return "data:video/jpeg;base64,"; }

std::string frame_url_piece(const EncodedFrame& frame, bool first)
{
    std::string piece = first ? "" : ",";
    append_base64(piece, frame.jpeg);
    return piece;
}

std::string frames_url_ending(const std::vector<EncodedFrame>& frames)
{
    return frames.size() == 1 ? frame_url_piece(frames.front(), false) : std::string();
}

void finish_frames(PreparedVideo& v, const SampledFrames& sampled, std::string url, const ProviderConfig& config,
                   const std::string& media_key)
{
    const auto& frames = sampled.extraction.frames;
    if (frames.empty())
        throw MediaError(fmt::format("cannot use video '{}': no frame could be sampled", sampled.source));
    json indices = json::array();
    std::vector<double> times;
    for (size_t i = 0; i < std::max<size_t>(frames.size(), 2); ++i) {
        const EncodedFrame& f = frames[std::min(i, frames.size() - 1)];
        indices.push_back(std::llround(f.time_s * frames_time_base));
        times.push_back(f.time_s);
    }
    v.url = std::move(url);
    v.video_kwargs = {{"num_frames", -1},
                      {"fps", frames_time_base},
                      {"frames_indices", indices},
                      {"total_num_frames", std::max<int64_t>(std::llround(sampled.index->end_s * frames_time_base) + 1,
                                                             indices.back().get<int64_t>() + 1)}};
    v.estimate = qwen::estimate_video(times, frames.front().width, frames.front().height);
    v.frame_list = frame_list(sampled);
    v.frames_end_s = sampled.index->end_s;
    v.warnings = sampled.warnings;
    v.frames_plan.reset();
    if (media_key.empty())
        return;
    auto entry = std::make_shared<CachedMedia>();
    entry->parts = {{"url", v.url}, {"video_kwargs", v.video_kwargs}};
    entry->media_summary = {{"frames", v.frame_list}, {"end_s", v.frames_end_s}};
    entry->estimate = {{"times", times}, {"width", frames.front().width}, {"height", frames.front().height}};
    entry->warnings = v.warnings;
    entry->visual_tokens = v.estimate.visual_tokens;
    entry->bytes = v.url.size();
    cache_media(media_key, std::move(entry), config.conversation.cache_bytes);
}

void decode_planned_frames(PreparedVideo& video, const ProviderConfig& config, const plugin::Call& call, const PluginLog& log,
                           const std::string& media_key)
{
    const SampledFrames sampled = extract_planned(*video.frames_plan, call, log);
    const auto& frames = sampled.extraction.frames;
    std::string url = frames_url_prefix();
    for (size_t i = 0; i < frames.size(); ++i)
        url += frame_url_piece(frames[i], i == 0);
    url += frames_url_ending(frames);
    finish_frames(video, sampled, std::move(url), config, media_key);
}

std::string video_chat_body(const PreparedVideo& video, const CallSetup& setup, const ChatTurn& turn)
{
    const bool inline_data = video.mode == DeliveryMode::data && !turn.by_reference;
    const auto body_with_url = [&](const std::string& url) {
        json part = {{"type", "video_url"}, {"video_url", turn.by_reference ? json(nullptr) : json{{"url", url}}}};
        if (!turn.uuid.empty())
            part["uuid"] = turn.uuid;
        const std::string& first_prompt = turn.earlier ? turn.earlier->turns.front().prompt : setup.request.prompt;
        json content = json::array({std::move(part), {{"type", "text"}, {"text", first_prompt}}});
        json messages = turn.earlier ? continued_messages(content, *turn.earlier, setup.request.prompt, turn.skip_answers) : json();
        json body = make_chat_body(setup.loadout, std::move(content), setup.stream);
        body["max_tokens"] = setup.max_tokens;
        if (turn.earlier)
            body["messages"] = std::move(messages);
        if (!video.video_kwargs.is_null())
            body["media_io_kwargs"] = {{"video", video.video_kwargs}};
        return body.dump();
    };
    if (!inline_data)
        return body_with_url(video.url);

    // The body is serialised with a placeholder for the data URL; the file is then encoded into its place.
    const BodyAroundSlot around = split_at_slot(body_with_url);
    std::error_code ec;
    const fs::path file = native_path(video.data_path);
    const auto size = static_cast<size_t>(fs::file_size(file, ec));
    if (ec)
        throw MediaError(fmt::format("cannot use video '{}': {}", video.data_path, ec.message()));
    const std::string prefix = "data:" + video.data_mime + ";base64,";
    std::string out;
    out.reserve(around.before.size() + around.after.size() + prefix.size() + (size + 2) / 3 * 4);
    out += around.before;
    out += prefix;
    std::ifstream in(file, std::ios::binary);
    std::string chunk(3 * 1024 * 1024, '\0'); // a multiple of 3: chunks encode without padding in between
    while (in) {
        in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        append_base64(out, std::string_view(chunk.data(), static_cast<size_t>(in.gcount())));
    }
    if (in.bad())
        throw MediaError(fmt::format("cannot use video '{}': reading it failed", video.data_path));
    out += around.after;
    return out;
}

} // namespace jarvis
