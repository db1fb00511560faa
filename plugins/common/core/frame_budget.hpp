#pragma once

#include "core/qwen_tokens.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace jarvis {

// Per-frame pixel limits of qwen-vl-utils for Qwen3 (vision_process.py, smart_resize and its Qwen3 constants): factor 32, at least 128 and at
// most 768 tokens' worth of pixels per frame, and a budget over the whole clip.
inline constexpr int64_t frame_min_pixels = 128LL * 32 * 32;
inline constexpr int64_t frame_max_pixels = 768LL * 32 * 32;
inline constexpr int64_t clip_total_pixels = static_cast<int64_t>(128000LL * 32 * 32 * 0.9);

// What one frame sent as an image costs: its pad tokens, vision start/end and its "<t seconds>" text.
int64_t frame_image_tokens(qwen::Size size, double time_s);

// The size each of `frames` frames of width x height (as displayed) is sent at: qwen-vl-utils' smart_resize with
// the per-frame and whole-clip budgets; `max_pixels` (the loadout's) replaces the per-frame maximum.
qwen::Size frame_size(int64_t frames, int width, int height, std::optional<int64_t> max_pixels);

struct FrameBudget
{
    int64_t frames = 0;
    qwen::Size size;
    int64_t visual_tokens = 0; // for evenly spread frame times over the clip
    std::vector<std::string> warnings;
};

// Fits `frames` frames into the context: ctx minus the answer's max_tokens minus the text. Frames shrink first (down
// to the per-frame minimum), then fewer frames are taken (down to 2). Throws ConfigError when even that does not fit.
// Without ctx nothing is fitted.
FrameBudget fit_frame_budget(int64_t frames, int width, int height, double clip_s, std::optional<int64_t> max_pixels,
                             std::optional<int64_t> ctx, int64_t max_tokens, int64_t text_tokens);

} // namespace jarvis
