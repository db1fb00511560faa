#include "core/qwen_tokens.hpp"
#include "tokenizer/qwen_tokenizer.hpp"

#include <catch2/catch.hpp>

using namespace jarvis::qwen;

// Worked examples for 1280x720, as Qwen3-VL's processor counts them.
TEST_CASE("smart_resize matches the reference's worked examples", "[tokens]")
{
    struct Row
    {
        int frames, height, width, per_group;
    };
    const Row rows[] = {{4, 704, 1280, 880}, {20, 704, 1280, 880}, {32, 640, 1152, 720}, {64, 448, 832, 364}, {768, 128, 224, 28}};
    for (const Row& r : rows) {
        INFO("frames " << r.frames);
        const Size s = smart_resize_video(r.frames, 1280, 720);
        CHECK(s.height == r.height);
        CHECK(s.width == r.width);
        CHECK((s.width / factor) * (s.height / factor) == r.per_group);
    }
}

TEST_CASE("vLLM's qwen3_vl loader picks 2 fps, 4 to 768 frames, linspace rounded half to even", "[tokens]")
{
    // Reference §4.3: 10 s of 30 fps gives 20 frames, indices [0,16,31,47,...,299].
    const auto idx = qwen3_loader_indices(300, 30.0);
    REQUIRE(idx.size() == 20);
    CHECK(idx[0] == 0);
    CHECK(idx[1] == 16);
    CHECK(idx[2] == 31);
    CHECK(idx[3] == 47);
    CHECK(idx.back() == 299);
    CHECK(qwen3_loader_indices(30, 30.0).size() == 4);      // 1 s: the minimum of 4
    CHECK(qwen3_loader_indices(3, 30.0).size() == 3);       // never more than the video has
    CHECK(qwen3_loader_indices(108000, 30.0).size() == 768); // an hour: the maximum
}

TEST_CASE("a video estimate counts pad tokens per 2-frame group plus timestamp markers", "[tokens]")
{
    std::vector<double> times;
    for (int i = 0; i < 20; ++i)
        times.push_back(i * 0.5);
    const VideoEstimate e = estimate_video(times, 1280, 720);
    CHECK(e.frames == 20);
    CHECK(e.groups == 10);
    CHECK(e.resized.width == 1280);
    CHECK(e.resized.height == 704);
    // 8,800 pad tokens (the reference's table) plus 10 markers of 8 or 9 tokens.
    CHECK(e.visual_tokens > 8800 + 10 * 7);
    CHECK(e.visual_tokens < 8800 + 10 * 10);
}

TEST_CASE("a time marker costs what the tokenizer counts for it, plus the vision start and end", "[tokens][tokenizer]")
{
    // timestamp_marker_tokens counts the marker's digits instead of tokenizing it each time: every marker of a
    // ten-hour video, in steps that reach every digit count and every tenth.
    for (int64_t tenths = 0; tenths <= 360000; tenths += tenths < 2000 ? 1 : 37) {
        const double seconds = double(tenths) / 10;
        INFO(timestamp_marker(seconds));
        CHECK(timestamp_marker_tokens(seconds) == jarvis::qwen::count_tokens(timestamp_marker(seconds)) + 2);
    }
}
