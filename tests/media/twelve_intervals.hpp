#pragma once

#include "fixtures.hpp"

#include "media/frame_choice.hpp"
#include "media/frame_extractor.hpp"
#include "media/frame_index.hpp"
#include "media/media_source.hpp"

#include <memory>
#include <optional>

namespace jarvis::test {

// 12 s of H.264 with B-frames and a keyframe every second, opened and indexed, with 24 exact frames chosen from its 12
// intervals and a request for them at half size: what the extraction tests run on several workers.
struct TwelveIntervals
{
    std::filesystem::path video = make_video("gop30_12s.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x192:rate=30", "-t", "12", "-c:v",
                                                                "libx264", "-g", "30", "-bf", "2", "-pix_fmt", "yuv420p"});
    MediaSource source = MediaSource::open(video.string());
    std::shared_ptr<const FrameIndex> index = cached_frame_index(source, {});
    FrameChoice choice = choose_frames(*index, 24, 2, std::nullopt, std::nullopt, SeekMode::exact);
    ExtractionRequest request = half_size_request();

private:
    ExtractionRequest half_size_request() const
    {
        ExtractionRequest r;
        r.source = video.string();
        r.stream_index = source.stream_index();
        r.codec = source.stream()->codecpar;
        r.width = 160;
        r.height = 96;
        return r;
    }
};

} // namespace jarvis::test
