// Frame extraction's decoders take memory per decoder, not per minute of video: the number running at once is bounded
// by a budget (frames.decode_memory_mb) shared by every extraction in the plugin, whatever the machine's cores.
#include "fixtures.hpp"
#include "decoded_pictures.hpp"
#include "twelve_intervals.hpp"

#include "media/av_handles.hpp"
#include "media/decode_memory.hpp"
#include "media/frame_choice.hpp"
#include "media/frame_extractor.hpp"
#include "media/frame_index.hpp"
#include "media/media_source.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <utility>
#include <vector>

extern "C" {
#include <libavutil/imgutils.h>
}

using namespace jarvis;
using namespace jarvis::test;

namespace {

constexpr int64_t MiB = 1024 * 1024;

AVCodecParameters picture_of(int width, int height, AVPixelFormat format)
{
    AVCodecParameters p{};
    p.width = width;
    p.height = height;
    p.format = format;
    return p;
}

} // namespace

TEST_CASE("a decoder's memory follows its frame's size and depth", "[media][decode_memory]")
{
    const DecoderMemory hd = decoder_memory(picture_of(1920, 1080, AV_PIX_FMT_YUV420P));
    CHECK(hd.per_decoder == 8 * 3110400 + 8 * MiB); // 1080p 4:2:0 8-bit: 3.1 MB a frame; measured 34-36 MB
    CHECK(hd.per_extra_thread == 2 * 3110400 + MiB);
    const DecoderMemory uhd10 = decoder_memory(picture_of(3840, 2160, AV_PIX_FMT_YUV420P10LE));
    CHECK(uhd10.per_decoder == 8 * (3840 * 2160 * 3) + 8 * MiB); // two bytes a sample; measured 191 MB
    // A stream whose pixel format the container does not say is taken as 4:2:0 8-bit.
    CHECK(decoder_memory(picture_of(1920, 1080, AV_PIX_FMT_NONE)).per_decoder == hd.per_decoder);
}

TEST_CASE("decoders at once: one per core while the budget holds them, then fewer", "[media][decode_memory]")
{
    const DecoderMemory hd = decoder_memory(picture_of(1920, 1080, AV_PIX_FMT_YUV420P));
    const DecoderMemory uhd10 = decoder_memory(picture_of(3840, 2160, AV_PIX_FMT_YUV420P10LE));

    // Two cores and 1080p: what it always was, one decoder per core on one thread each.
    DecodeParallelism p = plan_decode_parallelism(2, 2, hd, default_decode_memory_bytes);
    CHECK(p.workers == 2);
    CHECK(p.threads == 1);
    CHECK_FALSE(p.limited);

    // Sixteen cores: sixteen 1080p decoders fit in 512 MB, but only two 4K 10-bit ones (a phone's HDR clip), which
    // get one more frame thread each from the cores left; unbounded they would have taken 3.3 GB.
    p = plan_decode_parallelism(16, 16, hd, default_decode_memory_bytes);
    CHECK(p.workers == 16);
    CHECK(p.threads == 1);
    CHECK_FALSE(p.limited);
    p = plan_decode_parallelism(16, 16, uhd10, default_decode_memory_bytes);
    CHECK(p.workers == 2);
    CHECK(p.threads == 2);
    CHECK(p.limited);
    CHECK(p.bytes <= default_decode_memory_bytes);
    CHECK(p.bytes == 2 * (uhd10.per_decoder + uhd10.per_extra_thread));

    // One keyframe interval: one decoder, with the cores as frame threads while they fit.
    p = plan_decode_parallelism(16, 1, hd, default_decode_memory_bytes);
    CHECK(p.workers == 1);
    CHECK(p.threads == 16);
    p = plan_decode_parallelism(16, 1, hd, hd.per_decoder + 3 * hd.per_extra_thread);
    CHECK(p.threads == 4);
    CHECK(p.limited);

    // A budget below one decoder (or none left): one decoder on one thread, so that the request still goes on.
    for (const int64_t budget : {int64_t{0}, hd.per_decoder - 1, int64_t{-5} * MiB}) {
        INFO("budget " << budget);
        p = plan_decode_parallelism(16, 16, hd, budget);
        CHECK(p.workers == 1);
        CHECK(p.threads == 1);
        CHECK(p.limited);
        CHECK(p.bytes == hd.per_decoder);
    }
}

TEST_CASE("extractions at once share one budget, and what one reserved is free again when it ends", "[media][decode_memory]")
{
    DecodeMemoryLedger ledger;
    const DecoderMemory hd = decoder_memory(picture_of(1920, 1080, AV_PIX_FMT_YUV420P));
    const int64_t budget = 3 * hd.per_decoder + hd.per_decoder / 2;
    {
        const auto first = ledger.reserve(8, 8, hd, budget);
        CHECK(first.parallelism().workers == 3);
        CHECK(ledger.reserved_bytes() == first.parallelism().bytes);
        {
            const auto second = ledger.reserve(8, 8, hd, budget);
            CHECK(second.parallelism().workers == 1);
            CHECK(second.parallelism().limited);
            CHECK(ledger.reserved_bytes() == first.parallelism().bytes + second.parallelism().bytes);
        }
        CHECK(ledger.reserved_bytes() == first.parallelism().bytes);
    }
    CHECK(ledger.reserved_bytes() == 0);
    CHECK(ledger.reserve(8, 8, hd, budget).parallelism().workers == 3);
}

TEST_CASE("extract_frames decodes on as many workers as the budget holds, and a concurrent one on what is left, with "
          "the same frames",
          "[media][decode_memory]")
{
    // 12 s with a keyframe every second: 24 frames from 12 intervals, asked of six workers.
    TwelveIntervals clip;
    const auto& index = clip.index;
    const FrameChoice& choice = clip.choice;
    ExtractionRequest& request = clip.request;
    const DecoderMemory cost = decoder_memory(*request.codec);
    request.threads = 6;

    const Extraction unbounded = extract_frames(request, *index, choice.targets, {});
    REQUIRE(unbounded.frames.size() == 24);
    CHECK(unbounded.parallelism.workers == 6);
    CHECK_FALSE(unbounded.parallelism.limited);

    // Room for two and a half decoders: two run; one asked for while they hold it gets the half left, so one decoder.
    request.decode_memory_bytes = 2 * cost.per_decoder + cost.per_decoder / 2;
    std::optional<Extraction> concurrent;
    ExtractionObserver observer;
    observer.frame_ready = [&](const EncodedFrame&) {
        if (!concurrent)
            concurrent = extract_frames(request, *index, choice.targets, {});
    };
    const Extraction bounded = extract_frames(request, *index, choice.targets, observer);
    CHECK(bounded.parallelism.workers == 2);
    CHECK(bounded.parallelism.limited);
    CHECK(bounded.parallelism.bytes <= request.decode_memory_bytes);
    REQUIRE(concurrent);
    CHECK(concurrent->parallelism.workers == 1);
    CHECK(concurrent->parallelism.threads == 1);
    CHECK(DecodeMemoryLedger::process_wide().reserved_bytes() == 0);

    for (const Extraction* e : {&bounded, static_cast<const Extraction*>(&*concurrent)}) {
        REQUIRE(e->frames.size() == unbounded.frames.size());
        for (size_t i = 0; i < e->frames.size(); ++i) {
            INFO("frame " << i);
            CHECK(e->frames[i].pts == unbounded.frames[i].pts);
            CHECK(e->frames[i].jpeg == unbounded.frames[i].jpeg);
        }
    }
}

namespace {

// The size of the first frame FFmpeg decodes from `video`, in the layout the decoder outputs.
int64_t decoded_frame_bytes(const std::string& video)
{
    const av::Frame frame = first_picture(video);
    return av_image_get_buffer_size(static_cast<AVPixelFormat>(frame->format), frame->width, frame->height, 1);
}

} // namespace

TEST_CASE("the frame size a decoder is costed at is the size it decodes, read from MP4's and Matroska's records without "
          "probing",
          "[media][decode_memory]")
{
    const std::vector<std::string> source = {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "0.5"};
    const auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = source;
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    };
    const std::vector<std::pair<std::string, std::vector<std::string>>> videos = {
        {"depth_h264_8.mp4", with({"-c:v", "libx264", "-pix_fmt", "yuv420p"})},
        {"depth_h264_10.mp4", with({"-c:v", "libx264", "-pix_fmt", "yuv420p10le"})},
        {"depth_h264_422_10.mkv", with({"-c:v", "libx264", "-pix_fmt", "yuv422p10le"})},
        {"depth_hevc_8.mp4", with({"-c:v", "libx265", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p"})},
        {"depth_hevc_10.mkv", with({"-c:v", "libx265", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p10le"})},
        {"depth_hevc_422_10.mp4", with({"-c:v", "libx265", "-x265-params", "log-level=error", "-pix_fmt", "yuv422p10le"})},
        {"depth_av1_10.mp4", with({"-c:v", "libaom-av1", "-cpu-used", "8", "-row-mt", "1", "-pix_fmt", "yuv420p10le"})},
        {"depth_vp9_8.webm", with({"-c:v", "libvpx-vp9", "-deadline", "realtime", "-pix_fmt", "yuv420p"})},
    };
    for (const auto& [name, args] : videos) {
        INFO(name);
        const auto video = make_video(name, args);
        MediaSource opened = MediaSource::open(video.string());
        const AVCodecParameters& par = *opened.stream()->codecpar;
        CHECK(par.format == AV_PIX_FMT_NONE); // not probed: the record is what tells
        const int64_t frame = decoded_frame_bytes(video.string());
        CHECK(decoder_memory(par).per_decoder == 8 * frame + 8 * MiB);
    }
}
