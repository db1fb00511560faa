#include "core/frame_budget.hpp"

#include "config/config_error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace jarvis {
namespace {

qwen::Size smart_resize(int width, int height, int64_t min_px, int64_t max_px)
{
    constexpr double f = qwen::factor;
    double h = std::max(f, std::nearbyint(height / f) * f);
    double w = std::max(f, std::nearbyint(width / f) * f);
    if (h * w > double(max_px)) {
        const double beta = std::sqrt(double(height) * width / double(max_px));
        h = std::max(f, std::floor(height / beta / f) * f);
        w = std::max(f, std::floor(width / beta / f) * f);
    } else if (h * w < double(min_px)) {
        const double beta = std::sqrt(double(min_px) / (double(height) * width));
        h = std::ceil(height * beta / f) * f;
        w = std::ceil(width * beta / f) * f;
    }
    return {static_cast<int>(w), static_cast<int>(h)};
}

int64_t clip_tokens(int64_t frames, qwen::Size size, double clip_s)
{
    int64_t total = 0;
    for (int64_t k = 0; k < frames; ++k)
        total += frame_image_tokens(size, clip_s * double(k) / double(std::max<int64_t>(frames, 1)));
    return total;
}

} // namespace

int64_t frame_image_tokens(qwen::Size size, double time_s)
{
    return int64_t(size.width / qwen::factor) * (size.height / qwen::factor) + qwen::timestamp_marker_tokens(time_s);
}

qwen::Size frame_size(int64_t frames, int width, int height, std::optional<int64_t> max_pixels)
{
    int64_t max_px = std::max(std::min(frame_max_pixels, clip_total_pixels / std::max<int64_t>(frames, 1) * 2),
                              static_cast<int64_t>(frame_min_pixels * 1.05));
    int64_t min_px = frame_min_pixels;
    if (max_pixels) {
        max_px = *max_pixels;
        min_px = std::min(min_px, max_px);
    }
    return smart_resize(width, height, min_px, max_px);
}

FrameBudget fit_frame_budget(int64_t frames, int width, int height, double clip_s, std::optional<int64_t> max_pixels,
                             std::optional<int64_t> ctx, int64_t max_tokens, int64_t text_tokens)
{
    FrameBudget b;
    b.frames = frames;
    b.size = frame_size(frames, width, height, max_pixels);
    b.visual_tokens = clip_tokens(frames, b.size, clip_s);
    if (!ctx)
        return b;
    const int64_t available = *ctx - max_tokens - text_tokens;
    if (b.visual_tokens <= available)
        return b;

    const qwen::Size smallest = smart_resize(width, height, std::min<int64_t>(frame_min_pixels, max_pixels.value_or(frame_min_pixels)),
                                             std::min<int64_t>(frame_min_pixels, max_pixels.value_or(frame_min_pixels)));
    // Shrink the frames: the largest size (in 32-pixel steps of the per-frame maximum) that fits.
    for (int64_t px = int64_t(b.size.width) * b.size.height; px >= frame_min_pixels; px -= 32 * 32 * 8) {
        const qwen::Size s = smart_resize(width, height, std::min<int64_t>(frame_min_pixels, px), px);
        if (clip_tokens(frames, s, clip_s) <= available) {
            b.size = s;
            b.visual_tokens = clip_tokens(frames, s, clip_s);
            b.warnings.push_back(fmt::format("frames sent at {}x{} to fit ctx={}", s.width, s.height, *ctx));
            return b;
        }
    }
    // Then take fewer frames at the smallest size.
    for (int64_t n = frames - 1; n >= 2; --n)
        if (clip_tokens(n, smallest, clip_s) <= available) {
            b.frames = n;
            b.size = smallest;
            b.visual_tokens = clip_tokens(n, smallest, clip_s);
            b.warnings.push_back(fmt::format("{} frames at {}x{} instead of {} to fit ctx={}", n, smallest.width, smallest.height,
                                             frames, *ctx));
            return b;
        }
    throw ConfigError(fmt::format("the video does not fit: even 2 frames at {}x{} need {} tokens, but ctx={} leaves {} after "
                                  "max_tokens={} and the prompt; raise ctx or lower max_tokens",
                                  smallest.width, smallest.height, clip_tokens(2, smallest, clip_s), *ctx, available, max_tokens));
}

} // namespace jarvis
