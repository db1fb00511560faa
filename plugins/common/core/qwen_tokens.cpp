#include "core/qwen_tokens.hpp"

#include "tokenizer/qwen_tokenizer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace jarvis::qwen {
namespace {

// Python's round(): half to even, which std::nearbyint does in the default rounding mode.
int64_t round_half_even(double v) { return static_cast<int64_t>(std::nearbyint(v)); }

} // namespace

Size smart_resize_video(int frames, int width, int height)
{
    double h = height;
    double w = width;
    if (h < factor || w < factor) {
        const double s = std::max(factor / h, factor / w);
        h = std::floor(h * s);
        w = std::floor(w * s);
    }
    int64_t hb = round_half_even(h / factor) * factor;
    int64_t wb = round_half_even(w / factor) * factor;
    const int64_t t = round_half_even(frames / 2.0) * 2;
    if (t * hb * wb > video_max_pixels) {
        const double beta = std::sqrt(double(frames) * h * w / video_max_pixels);
        hb = std::max<int64_t>(factor, static_cast<int64_t>(std::floor(h / beta / factor)) * factor);
        wb = std::max<int64_t>(factor, static_cast<int64_t>(std::floor(w / beta / factor)) * factor);
    } else if (t * hb * wb < video_min_pixels) {
        const double beta = std::sqrt(double(video_min_pixels) / (double(frames) * h * w));
        hb = static_cast<int64_t>(std::ceil(h * beta / factor)) * factor;
        wb = static_cast<int64_t>(std::ceil(w * beta / factor)) * factor;
    }
    return Size{static_cast<int>(wb), static_cast<int>(hb)};
}

std::vector<int64_t> qwen3_loader_indices(int64_t total_frames, double source_fps, double sample_fps)
{
    std::vector<int64_t> out;
    if (total_frames <= 0 || source_fps <= 0)
        return out;
    int64_t n = static_cast<int64_t>(double(total_frames) / source_fps * sample_fps);
    n = std::min<int64_t>({std::max<int64_t>(n, loader_min_frames), loader_max_frames, total_frames});
    out.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const double x = n == 1 ? 0.0 : double(i) * double(total_frames - 1) / double(n - 1);
        out.push_back(round_half_even(x));
    }
    return out;
}

std::string timestamp_marker(double seconds)
{
    char text[48];
    std::snprintf(text, sizeof text, "<%.1f seconds>", seconds);
    return text;
}

int timestamp_marker_tokens(double seconds)
{
    // Qwen's pre-tokenizer splits off every digit alone, so markers differ only by their digit count: the rest is
    // counted once (frame budgets ask this for every frame of every candidate clip, too often for the tokenizer).
    static const int64_t without_digits = count_tokens(timestamp_marker(0)) - 2;
    const std::string marker = timestamp_marker(seconds);
    const auto digits = std::count_if(marker.begin(), marker.end(), [](char c) { return c >= '0' && c <= '9'; });
    return static_cast<int>(without_digits + digits) + 2;
}

VideoEstimate estimate_video(const std::vector<double>& times, int width, int height)
{
    VideoEstimate e;
    e.frames = static_cast<int>(times.size());
    if (e.frames == 0 || width <= 0 || height <= 0)
        return e;
    e.groups = (e.frames + 1) / 2;
    e.resized = smart_resize_video(e.frames, width, height);
    const int64_t per_group = int64_t(e.resized.width / factor) * (e.resized.height / factor);
    e.visual_tokens = per_group * e.groups;
    for (int g = 0; g < e.groups; ++g) {
        const double a = times[static_cast<size_t>(2 * g)];
        const double b = times[std::min(static_cast<size_t>(2 * g + 1), times.size() - 1)];
        e.visual_tokens += timestamp_marker_tokens((a + b) / 2);
    }
    return e;
}

int64_t question_text_tokens(std::string_view prompt, std::string_view followed_by)
{
    // The media parts go between "user\n" and the text, so the text is counted apart (special tokens separate it).
    static const int64_t template_tokens = count_tokens("<|im_start|>user\n<|im_end|>\n<|im_start|>assistant\n");
    if (followed_by.empty())
        return template_tokens + count_tokens(prompt);
    return template_tokens + count_tokens(std::string(prompt) + std::string(followed_by)) - count_tokens(followed_by);
}

int64_t conversation_text_tokens(std::string_view first_prompt, std::string_view latest_prompt, std::string_view followed_by)
{
    return question_text_tokens(first_prompt, followed_by) + message_tokens("user", latest_prompt);
}

int64_t message_tokens(std::string_view role, std::string_view text)
{
    return count_tokens("<|im_start|>" + std::string(role) + "\n" + std::string(text) + "<|im_end|>\n");
}

} // namespace jarvis::qwen
