// A sample time that falls on a frame's time takes that frame. Sample times are multiples of 1/fps in double, frame
// times multiples of the container's tick: the two agree only to a rounding error, which must not move a sample to
// the frame before.
#include "fixtures.hpp"

#include "media/frame_choice.hpp"
#include "media/frame_index.hpp"
#include "media/media_source.hpp"

#include <catch2/catch.hpp>

using namespace jarvis;
using namespace jarvis::test;

TEST_CASE("samples at a video's own frame times take each frame once, in every container's clock", "[media][choice]")
{
    // MP4 (1/12288 s ticks at 24 fps, 1/15360 at 30 fps), MPEG-TS (1/90000 s), Matroska (1/1000 s: 24 fps frame times are rounded).
    const auto [name, rate, extension] = GENERATE(table<std::string, int, std::string>(
        {{"choice_24", 24, "mp4"}, {"choice_30", 30, "mp4"}, {"choice_24", 24, "ts"}, {"choice_24", 24, "mkv"}}));
    INFO(name << "." << extension);
    const auto video = make_video(name + "." + extension, {"-f", "lavfi", "-i", "testsrc2=size=64x64:rate=" + std::to_string(rate), "-t", "18",
                                                          "-c:v", "libx264", "-preset", "ultrafast", "-g", std::to_string(2 * rate)});
    MediaSource source = MediaSource::open(video.string());
    const FrameIndex index = scan_frame_index(source, {}, {});
    REQUIRE(index.frames.size() == size_t(18 * rate));

    // At the video's own rate: every frame, each the sample at its own time.
    const FrameChoice every = choose_frames(index, 18 * rate, rate, std::nullopt, std::nullopt, SeekMode::exact);
    CHECK(every.warnings.empty());
    REQUIRE(every.targets.size() == index.frames.size());
    for (size_t k = 0; k < every.targets.size(); ++k)
        CHECK(every.targets[k].position == k);

    // At 2 fps (vLLM's default): sample k is frame k * rate / 2, not the one before it.
    const FrameChoice two = choose_frames(index, 36, 2, std::nullopt, std::nullopt, SeekMode::exact);
    REQUIRE(two.targets.size() == 36);
    for (size_t k = 0; k < two.targets.size(); ++k) {
        INFO("sample " << k);
        CHECK(two.targets[k].position * 2 == k * size_t(rate));
    }
}
