#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace jarvis::qwen {

// Qwen3-VL's vision constants (patch 16, spatial merge 2, temporal patch 2), from the checkpoint's
// video_preprocessor_config.json (and vLLM's Qwen3-VL processor, vllm/model_executor/models/qwen3_vl.py).
inline constexpr int factor = 32;
inline constexpr int64_t video_min_pixels = 4096;       // over T*H*W of the whole clip
inline constexpr int64_t video_max_pixels = 25165824;   // over T*H*W of the whole clip
inline constexpr int qwen3_loader_fps = 2;              // vLLM's qwen3_vl loader default
inline constexpr int loader_min_frames = 4;
inline constexpr int loader_max_frames = 768;

struct Size
{
    int width = 0;
    int height = 0;
};

// The processor's 3-D smart_resize: the size each of `frames` frames of width x height is scaled to.
Size smart_resize_video(int frames, int width, int height);

// The indices vLLM's qwen3_vl loader samples from a video of `total_frames` at `source_fps`, at `sample_fps`.
std::vector<int64_t> qwen3_loader_indices(int64_t total_frames, double source_fps, double sample_fps = qwen3_loader_fps);

// Text tokens of one "<12.5 seconds>" marker plus its vision start/end tokens (digits tokenize one by one).
int timestamp_marker_tokens(double seconds);

struct VideoEstimate
{
    int frames = 0;
    int groups = 0;        // temporal patches: ceil(frames / 2)
    Size resized;
    int64_t visual_tokens = 0; // pad tokens plus timestamp markers
};

// What a video of `frames` frames at these times costs once the processor has it (reference §4.4).
VideoEstimate estimate_video(const std::vector<double>& frame_times_s, int width, int height);

// Rough text token count for a prompt (about 4 bytes per token for English, plus the chat template).
int64_t estimate_text_tokens(size_t utf8_bytes);

} // namespace jarvis::qwen
