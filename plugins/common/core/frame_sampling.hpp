#pragma once

#include "config/provider_config.hpp"
#include "core/call_setup.hpp"
#include "log/plugin_log.hpp"
#include "media/frame_extractor.hpp"
#include "media/frame_index.hpp"
#include "media/media_source.hpp"
#include "media/url_download.hpp"

#include <jarvis/plugin_adapter.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace jarvis {

// Frames sampled by the client: what frame_slicer sends as images, and what native_video's frames delivery sends
// as one video.
struct SampledFrames
{
    std::string source; // the video, as the request named it
    std::shared_ptr<const FrameIndex> index;
    Extraction extraction;
    SeekMode mode = SeekMode::exact;
    double clip_start_s = 0;
    double clip_end_s = 0;
    std::vector<std::string> warnings;
};

// How the frames reach the model, which decides the size the server resizes them to: as images (frame_slicer,
// Qwen3-VL's image rule) or as the frames of one video (native_video's frames delivery, the video rule: a pixel
// budget shared by all frames).
enum class FrameUse { images, video };

// What MediaSource::open is given so that an HLS master is read at the variant the frames of this request need.
// `setup` and `log` must outlive the open.
MediaSource::VariantSizeWanted variant_size_wanted(const CallSetup& setup, FrameUse use, const PluginLog& log);

// Which frames a request samples and how they are made, before any of them is decoded: the index (cached), the
// choice and the extraction request. The source must outlive it (the request points at its codec parameters).
struct FramePlan
{
    std::shared_ptr<const FrameIndex> index;
    FrameChoice choice;
    ExtractionRequest request;
    std::shared_ptr<const DownloadedCopy> local_copy; // a URL's copy request.local_copy names, kept while the plan is
    std::shared_ptr<const AVCodecParameters> local_copy_codec; // the copy's, which request.codec points at
    SeekMode mode = SeekMode::exact;
    std::vector<std::string> warnings; // the budget's and the choice's
    bool hardware_named = false; // frames.hardware_decode named the device the request has (not "auto"): a fallback is told
};

// The first half of the client-side pipeline: index (cached), sample count from the loadout (fps default 2,
// max_frames, start, end), the token budget (ctx, max_tokens, max_pixels) and frame choice. Frames are to be scaled
// and encoded once, at the size the server will resize them to for `use`, so that it has nothing to shrink and no
// pixel is sent that the model does not see.
FramePlan plan_frames(const ProviderConfig& config, const CallSetup& setup, MediaSource& source, const plugin::Call& call,
                      const PluginLog& log, FrameUse use = FrameUse::images);

// The second half: decoding and JPEG. `frame_ready`, when given, gets each frame in time order as soon as it and every
// earlier one are encoded, on the calling thread; with `keep_jpegs` false the result then keeps no JPEG (their sizes only).
SampledFrames extract_planned(const FramePlan& plan, const plugin::Call& call, const PluginLog& log,
                              std::function<void(const EncodedFrame&)> frame_ready = {}, bool keep_jpegs = true);

// Both halves.
SampledFrames sample_frames(const ProviderConfig& config, const CallSetup& setup, MediaSource& source, const plugin::Call& call,
                            const PluginLog& log, FrameUse use = FrameUse::images);

// The times of the frames a plan will send: with its request's size, what a token estimate needs before they are decoded.
std::vector<double> planned_times(const FramePlan& plan);

// One frame as content parts: "<t seconds>" text, then the JPEG as an image_url data URL.
nlohmann::json frame_image_parts(const EncodedFrame& frame);

// Those of every frame, in order.
nlohmann::json image_parts(const SampledFrames& frames);

// media.frames of the plan document: pts_s, width, height, bytes for each frame.
nlohmann::json frame_list(const SampledFrames& frames);

// The visual tokens of the frames sent as images.
int64_t image_tokens(const SampledFrames& frames);

} // namespace jarvis
