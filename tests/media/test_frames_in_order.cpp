// extract_frames hands each frame on (frame_ready) in time order as soon as it and every earlier one are encoded, from
// several workers at once; a caller that keeps only what it made of them gets a result without the JPEGs.
#include "fixtures.hpp"

#include "media/frame_choice.hpp"
#include "media/frame_extractor.hpp"
#include "media/frame_index.hpp"
#include "media/media_source.hpp"

#include <catch2/catch.hpp>

using namespace jarvis;
using namespace jarvis::test;

namespace {

struct Taken
{
    Extraction result;
    std::vector<EncodedFrame> handed_on;
};

Taken take(const std::string& video, bool keep_jpegs)
{
    MediaSource source = MediaSource::open(video);
    const auto index = cached_frame_index(source, {});
    const FrameChoice choice = choose_frames(*index, 24, 2, std::nullopt, std::nullopt, SeekMode::exact);
    ExtractionRequest request;
    request.source = video;
    request.stream_index = source.stream_index();
    request.codec = source.stream()->codecpar;
    request.width = 160;
    request.height = 96;
    request.threads = 2; // intervals finish out of order
    Taken taken;
    ExtractionObserver observer;
    observer.frame_ready = [&](const EncodedFrame& f) { taken.handed_on.push_back(f); };
    observer.keep_jpegs = keep_jpegs;
    taken.result = extract_frames(request, *index, choice.targets, observer);
    return taken;
}

} // namespace

TEST_CASE("frames are handed on in time order, and a caller that keeps them gets a result of sizes only", "[media][frame_ready]")
{
    // 12 s with a keyframe every second: 24 frames from 12 intervals shared by two workers.
    const auto video = make_video("gop30_12s.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x192:rate=30", "-t", "12", "-c:v", "libx264",
                                                    "-g", "30", "-bf", "2", "-pix_fmt", "yuv420p"});
    const Taken kept = take(video.string(), true);
    const Taken dropped = take(video.string(), false);
    REQUIRE(kept.result.frames.size() == 24);
    REQUIRE(kept.handed_on.size() == 24);
    REQUIRE(dropped.result.frames.size() == 24);
    REQUIRE(dropped.handed_on.size() == 24);
    for (size_t i = 0; i < 24; ++i) {
        INFO("frame " << i);
        if (i > 0)
            CHECK(kept.handed_on[i].pts > kept.handed_on[i - 1].pts);
        CHECK(kept.handed_on[i].pts == kept.result.frames[i].pts);
        CHECK(kept.handed_on[i].jpeg == kept.result.frames[i].jpeg);
        CHECK(kept.result.frames[i].jpeg_bytes == kept.result.frames[i].jpeg.size());
        CHECK_FALSE(kept.result.frames[i].jpeg.empty());
        // Dropped from the result once handed on, the JPEG was whole when it was handed on; its size stays.
        CHECK(dropped.result.frames[i].jpeg.empty());
        CHECK(dropped.result.frames[i].pts == kept.result.frames[i].pts);
        CHECK(dropped.result.frames[i].jpeg_bytes == kept.result.frames[i].jpeg.size());
        CHECK(dropped.handed_on[i].jpeg == kept.result.frames[i].jpeg);
    }
}
