// Skipping H.264 reference pictures no target depends on must not change a single pixel: for many x264 reference
// structures, every frame taken with skipping is byte for byte the JPEG taken without it, and where the structure
// allows it (OBS-style ref=1 with b-pyramid) reference pictures really are skipped.
#include "fixtures.hpp"

#include "media/frame_choice.hpp"
#include "media/h264_references.hpp"
#include "media/frame_extractor.hpp"
#include "media/frame_index.hpp"
#include "media/media_error.hpp"
#include "media/media_source.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace jarvis;
using namespace jarvis::test;

namespace {

std::vector<FrameTarget> targets(const std::string& video, int frames)
{
    MediaSource source = MediaSource::open(video);
    return choose_frames(*cached_frame_index(source, {}), frames, 2, std::nullopt, std::nullopt, SeekMode::exact).targets;
}

// Every frame of `source` at its displayed size, in exact mode.
ExtractionRequest request_for(const std::string& video, const MediaSource& source)
{
    ExtractionRequest request;
    request.source = video;
    request.stream_index = source.stream_index();
    request.codec = source.stream()->codecpar;
    request.width = source.info().width;
    request.height = source.info().height;
    return request;
}

Extraction take(const std::string& video, int frames, bool skip_unused_references, unsigned threads = 1)
{
    MediaSource source = MediaSource::open(video);
    const auto index = cached_frame_index(source, {});
    const FrameChoice choice = choose_frames(*index, frames, 2, std::nullopt, std::nullopt, SeekMode::exact);
    ExtractionRequest request = request_for(video, source);
    request.threads = threads;
    request.skip_unused_references = skip_unused_references;
    return extract_frames(request, *index, choice.targets, {});
}

void check_same_frames(const std::string& video, int frames)
{
    const Extraction all = take(video, frames, false);
    const Extraction skipping = take(video, frames, true);
    REQUIRE(all.frames.size() == skipping.frames.size());
    CHECK(all.skipped_references == 0);
    for (size_t i = 0; i < all.frames.size(); ++i) {
        INFO("frame " << i << " at " << all.frames[i].time_s << " s");
        CHECK(skipping.frames[i].pts == all.frames[i].pts);
        CHECK(skipping.frames[i].jpeg == all.frames[i].jpeg);
    }
    CHECK(skipping.warnings == all.warnings);
}

std::vector<std::string> x264(const std::string& params, const std::string& preset = "veryfast", const std::string& pix_fmt = "yuv420p")
{
    return {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "12", "-c:v", "libx264", "-preset", preset,
            "-x264-params", params, "-pix_fmt", pix_fmt};
}

} // namespace

TEST_CASE("skipping unused H.264 references changes no pixel", "[media][h264]")
{
    struct Case
    {
        std::string name;
        std::vector<std::string> args;
        bool skips; // whether this structure has reference pictures no later picture uses
    };
    const std::vector<Case> cases = {
        // OBS's default: x264 veryfast, 2 B-frames, b-pyramid, one reference.
        {"refs_obs.mp4", x264("keyint=150:min-keyint=150:scenecut=0:bframes=2:b-pyramid=normal:ref=1"), true},
        {"refs_pyramid3.mp4", x264("keyint=150:min-keyint=150:scenecut=0:bframes=3:b-pyramid=normal:ref=1"), true},
        {"refs_strict.mp4", x264("keyint=150:scenecut=0:bframes=3:b-pyramid=strict:ref=2"), false},
        {"refs_medium.mp4", x264("keyint=150:bframes=3:b-pyramid=normal:ref=3", "medium"), false},
        {"refs_weightp.mp4", x264("keyint=150:bframes=2:b-pyramid=normal:ref=2:weightp=2"), false},
        {"refs_slices.mp4", x264("keyint=150:bframes=2:b-pyramid=normal:ref=1:slices=4"), true},
        {"refs_nob.mp4", x264("keyint=150:bframes=0:ref=1"), false},
        {"refs_openGOP.mp4", x264("keyint=60:bframes=3:b-pyramid=normal:ref=1:open-gop=1"), false},
        {"refs_annexb.ts", x264("keyint=150:min-keyint=150:scenecut=0:bframes=2:b-pyramid=normal:ref=1"), true},
        {"refs_deep.mp4", x264("keyint=250:bframes=16:b-adapt=2:b-pyramid=normal:ref=16"), false},
        {"refs_temporal.mp4", x264("keyint=250:min-keyint=250:bframes=3:b-pyramid=normal:ref=1:direct=temporal:weightb=1"), true},
        {"refs_wrap.mp4", x264("keyint=400:min-keyint=400:scenecut=0:bframes=2:b-pyramid=normal:ref=1"), true}, // frame_num wraps
        {"refs_interlaced.mp4", x264("keyint=150:bframes=2:b-pyramid=normal:ref=1:interlaced=1"), false}, // not modelled
        {"refs_intra_refresh.mp4", x264("keyint=60:bframes=2:ref=1:intra-refresh=1"), false},
        {"refs_high10.mp4", x264("keyint=150:bframes=2:b-pyramid=normal:ref=1", "veryfast", "yuv420p10le"), true},
        {"refs_444.mp4", x264("keyint=150:bframes=2:b-pyramid=normal:ref=1:cqm=jvt", "veryfast", "yuv444p"), true}, // scaling lists
        {"refs_slower.mp4", x264("keyint=150:bframes=3:b-adapt=2", "slower"), false},
        {"refs_zerolatency.mp4", x264("keyint=150:sliced-threads=1:threads=4:bframes=0", "veryfast"), false},
        {"refs_baseline.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "12", "-c:v", "libx264", "-profile:v",
                               "baseline", "-x264-params", "keyint=150:ref=4", "-pix_fmt", "yuv420p"}, false},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name)
        {
            const std::string video = make_video(c.name, c.args).string();
            // Three target densities, so that targets fall on many different pictures of each structure.
            check_same_frames(video, 24);
            check_same_frames(video, 7);
            check_same_frames(video, 41);
            const Extraction skipping = take(video, 24, true);
            // On an FFmpeg the replay was not checked against, it is off: identical frames, fewer pictures skipped.
            if (c.skips && jarvis::h264::replay_matches_this_ffmpeg())
                CHECK(skipping.skipped_references > 0);
            INFO("skipped references: " << skipping.skipped_references);
            // Exactly the frames chosen, intra refresh included (its keyframes are recovery points, not IDRs).
            const std::vector<FrameTarget> chosen = targets(video, 24);
            REQUIRE(skipping.frames.size() == chosen.size());
            for (size_t i = 0; i < chosen.size(); ++i)
                CHECK(skipping.frames[i].pts == chosen[i].pts);
        }
    }
}

TEST_CASE("skipping unused references is the same with workers in parallel", "[media][h264]")
{
    const std::string video =
        make_video("refs_obs.mp4", x264("keyint=150:min-keyint=150:scenecut=0:bframes=2:b-pyramid=normal:ref=1")).string();
    const Extraction one = take(video, 24, true, 1);
    const Extraction two = take(video, 24, true, 2);
    REQUIRE(one.frames.size() == two.frames.size());
    for (size_t i = 0; i < one.frames.size(); ++i)
        CHECK(one.frames[i].jpeg == two.frames[i].jpeg);
    CHECK(one.skipped_references == two.skipped_references);
}

TEST_CASE("truncated and damaged OBS-style files: what decodes, at true times, with or without skipping", "[media][h264][damaged]")
{
    TempDir dir;
    const auto params = "keyint=90:min-keyint=90:scenecut=0:bframes=2:b-pyramid=normal:ref=1";
    for (const std::string name : {"refs_cut_faststart.mp4", "refs_cut.ts"}) {
        std::vector<std::string> args = x264(params);
        if (name.ends_with(".mp4"))
            args.insert(args.end(), {"-movflags", "+faststart"});
        const std::string whole = read_file(make_video(name, args));
        for (const bool flipped : {false, true}) {
            DYNAMIC_SECTION(name << (flipped ? ", cut and bit-flipped" : ", cut"))
            {
                // Cut at 60%; maybe flip bytes in a few packets on the way.
                std::string bytes = whole.substr(0, whole.size() * 6 / 10);
                for (size_t at = bytes.size() / 5; flipped && at + 216 < bytes.size(); at += bytes.size() / 5)
                    for (size_t k = 0; k < 16; ++k)
                        bytes[at + 200 + k] = static_cast<char>(bytes[at + 200 + k] ^ 0x5a);
                const auto damaged = dir.path() / ((flipped ? "flipped_" : "cut_") + name);
                std::ofstream(damaged, std::ios::binary) << bytes;
                const Extraction all = take(damaged.string(), 24, false);
                const Extraction skipping = take(damaged.string(), 24, true);
                REQUIRE(all.frames.size() == skipping.frames.size());
                REQUIRE_FALSE(all.frames.empty());
                for (size_t i = 0; i < all.frames.size(); ++i) {
                    INFO("frame " << i);
                    CHECK(skipping.frames[i].pts == all.frames[i].pts);
                    // Where the data is intact the pictures are the same to the byte. Damage FFmpeg does not
                    // notice decodes to garbage that can spread differently when other pictures were skipped.
                    if (!flipped)
                        CHECK(skipping.frames[i].jpeg == all.frames[i].jpeg);
                }
                // Skipping does not change what is reported about a cut file.
                if (!flipped)
                    CHECK(skipping.warnings == all.warnings);
            }
        }
    }
}

TEST_CASE("a cancelled extraction throws the media layer's own MediaCancelled and leaves no frames", "[media][cancel]")
{
    const std::string video = sample_video().string();
    MediaSource source = MediaSource::open(video);
    const auto index = cached_frame_index(source, {});
    const FrameChoice choice = choose_frames(*index, 8, 2, std::nullopt, std::nullopt, SeekMode::exact);
    const ExtractionRequest request = request_for(video, source);
    int polls = 0;
    ExtractionObserver observer;
    observer.cancelled = [&polls] { return ++polls > 1; }; // the first poll lets the workers start
    CHECK_THROWS_AS(extract_frames(request, *index, choice.targets, observer), MediaCancelled);
    CHECK(polls > 1);
}
