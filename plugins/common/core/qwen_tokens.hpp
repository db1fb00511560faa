#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
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

// "<12.5 seconds>": the notation Qwen3-VL's processor puts before each frame group (and frame_slicer before each image).
std::string timestamp_marker(double seconds);

// Tokens of one timestamp marker plus its vision start/end tokens.
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

// Text tokens of a question, counted by Qwen3-VL's tokenizer: the chat template of one user message with this text
// (its media counted apart) and the assistant's generation prompt. `followed_by` is text the chat body puts right
// after the prompt and counts elsewhere (frame_slicer's first time label): the tokenizer may join the two, so the
// prompt is counted as what the pair costs beyond that text.
int64_t question_text_tokens(std::string_view prompt, std::string_view followed_by = {});

// Text tokens of a follow-up's first question (which carries the media) and latest one, a message of its own; the
// messages between come from message_tokens.
int64_t conversation_text_tokens(std::string_view first_prompt, std::string_view latest_prompt, std::string_view followed_by = {});

// Tokens one more message of the chat adds: "<|im_start|>role\ntext<|im_end|>\n".
int64_t message_tokens(std::string_view role, std::string_view text);

} // namespace jarvis::qwen
