#pragma once

#include "config/provider_config.hpp"
#include "core/call_setup.hpp"
#include "log/plugin_log.hpp"
#include "media/frame_extractor.hpp"
#include "media/frame_index.hpp"
#include "media/media_source.hpp"

#include <jarvis/plugin_adapter.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace jarvis {

// Frames sampled by the client: what frame_slicer sends as images, and what native_video's frames delivery sends
// as one video.
struct SampledFrames
{
    std::shared_ptr<const FrameIndex> index;
    Extraction extraction;
    SeekMode mode = SeekMode::exact;
    double clip_start_s = 0;
    double clip_end_s = 0;
    std::vector<std::string> warnings;
};

// The whole client-side pipeline for one request: index (cached), sample count from the loadout (fps default 2,
// max_frames, start, end), the token budget (ctx, max_tokens, max_pixels), frame choice, decoding and JPEG.
SampledFrames sample_frames(const ProviderConfig& config, const CallSetup& setup, MediaSource& source, const plugin::Call& call,
                            const PluginLog& log);

// The frames as content parts: "<t seconds>" text, then the JPEG as an image_url data URL, for each frame.
nlohmann::json image_parts(const SampledFrames& frames);

// media.frames of the plan document: pts_s, width, height, bytes for each frame.
nlohmann::json frame_list(const SampledFrames& frames);

// The visual tokens of the frames sent as images.
int64_t image_tokens(const SampledFrames& frames);

} // namespace jarvis
