// Exact mode's index made by seeking (FFmpeg reading the container's sample index: MP4's sample tables, Matroska's
// cues): for a few
// frames of a long video it reads a few keyframe intervals instead of the whole file; what it holds is the full
// scan's, and the frames it leads to are the ones the full scan leads to.
#include "bytes_read.hpp"
#include "fixtures.hpp"

#include "media/frame_choice.hpp"
#include "media/frame_index.hpp"
#include "media/media_error.hpp"
#include "media/media_source.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <sstream>

using namespace jarvis;
using namespace jarvis::test;

namespace {

std::vector<int64_t> chosen_pts(const FrameIndex& index, int64_t count, double fps)
{
    std::vector<int64_t> pts;
    for (const auto& t : choose_frames(index, count, fps, std::nullopt, std::nullopt, SeekMode::exact).targets)
        pts.push_back(t.pts);
    return pts;
}

} // namespace

TEST_CASE("the interval index leads to the frames the full scan leads to", "[media][index]")
{
    const std::vector<std::pair<std::string, std::vector<std::string>>> videos = {
        {"interval_h264_bframes.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "40", "-c:v", "libx264", "-bf", "3", "-g", "90"}},
        {"interval_hevc.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "40", "-c:v", "libx265", "-x265-params", "log-level=error:keyint=50", "-tag:v", "hvc1"}},
        {"interval_vp9.webm", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=24", "-t", "40", "-c:v", "libvpx-vp9", "-g", "48", "-deadline", "realtime", "-cpu-used", "8"}},
        {"interval_vfr.mkv", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "40", "-vf", "setpts='if(lt(N,300),N/30,10+(N-300)*2/30)/TB'", "-fps_mode", "vfr", "-c:v", "libx264", "-g", "60"}},
        {"interval_h264_bframes.mkv", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "40", "-c:v", "libx264", "-bf", "3", "-g", "90"}},
        {"interval_offset.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "40", "-output_ts_offset", "7.5", "-c:v", "libx264", "-bf", "2", "-g", "120"}},
        {"interval_mpegts.ts", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "40", "-c:v", "libx264", "-g", "60"}},
    };
    for (const auto& [name, args] : videos) {
        INFO(name);
        const auto video = make_video(name, args).string();
        MediaSource scanned_source = MediaSource::open(video);
        const FrameIndex full = scan_frame_index(scanned_source, {});
        for (const int64_t count : {2, 5, 8}) {
            INFO(count << " samples");
            MediaSource source = MediaSource::open(video);
            const double fps = 2;
            const auto sparse = interval_index_by_seeking(source, sample_times(count, fps, 0, source.info().duration_s), {});
            // Without a sample index (MPEG-TS has none) it declines, as keyframe mode's index does, and the caller
            // scans. Matroska's cues are read on a first seek, which opening the source makes.
            MediaSource probe = MediaSource::open(video);
            const bool seekable = keyframe_index_by_seeking(probe, {0.0}).has_value();
            if (name.find(".ts") == std::string::npos) {
                REQUIRE(seekable);
                CHECK(source.info().indexed_keyframes > 1);
            }
            if (!seekable) {
                CHECK_FALSE(sparse);
                continue;
            }
            REQUIRE(sparse);
            CHECK(sparse->frames.size() < full.frames.size());
            CHECK(sparse->origin_pts == full.origin_pts);
            CHECK(sparse->end_s == Approx(full.end_s).margin(0.05));
            // The times the scan's end gives, so that both choose for the same moments.
            const auto sparse_chosen = chosen_pts(*sparse, count, fps);
            const auto full_chosen = chosen_pts(full, count, fps);
            CHECK(sparse_chosen == full_chosen);
            // Every frame the seeking index holds is the scan's, with the same keyframe flag and the same keyframe to
            // decode from; and within an interval it holds the scan's frames without a gap.
            std::map<int64_t, size_t> full_position;
            for (size_t i = 0; i < full.frames.size(); ++i)
                full_position[full.frames[i].pts] = i;
            for (size_t i = 0; i < sparse->frames.size(); ++i) {
                const auto& entry = sparse->frames[i];
                const auto at = full_position.find(entry.pts);
                REQUIRE(at != full_position.end());
                const auto& scanned = full.frames[at->second];
                CHECK(entry.key == scanned.key);
                CHECK(sparse->frames[static_cast<size_t>(entry.keyframe)].pts == full.frames[static_cast<size_t>(scanned.keyframe)].pts);
                if (i > 0 && sparse->frames[i - 1].keyframe == entry.keyframe)
                    CHECK(full_position.at(sparse->frames[i - 1].pts) + 1 == at->second);
            }
            // Each chosen frame decodes from a keyframe the scan agrees on.
            for (const auto& t : choose_frames(*sparse, count, fps, std::nullopt, std::nullopt, SeekMode::exact).targets) {
                const auto in_full = std::find_if(full.frames.begin(), full.frames.end(), [&](const auto& e) { return e.pts == t.pts; });
                REQUIRE(in_full != full.frames.end());
                CHECK(sparse->frames[sparse->frames[t.position].keyframe].pts == full.frames[in_full->keyframe].pts);
            }
        }
    }
}

TEST_CASE("eight frames of a long video read a small part of it through the interval index", "[media][index]")
{
    // OBS records to Matroska: its cues, not a scan, must find the intervals too.
    const std::string name = GENERATE(std::string("interval_long.mp4"), std::string("interval_long.mkv"));
    INFO(name);
    const auto video = make_video(name, {"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "240", "-c:v", "libx264",
                                         "-preset", "ultrafast", "-g", "250"});
    const auto size = static_cast<int64_t>(std::filesystem::file_size(video));
    MediaSource source = MediaSource::open(video.string());
    const int64_t before = bytes_read_so_far();
    REQUIRE(before >= 0);
    const auto sparse = interval_index_by_seeking(source, sample_times(8, 2, 0, source.info().duration_s), {});
    const int64_t read = bytes_read_so_far() - before;
    REQUIRE(sparse);
    INFO(read << " of " << size << " bytes");
    CHECK(read < size * 3 / 10);
}

TEST_CASE("a cancelled interval index throws MediaCancelled", "[media][index][cancel]")
{
    MediaSource source = MediaSource::open(sample_video().string());
    CHECK_THROWS_AS(interval_index_by_seeking(source, {0.0, 0.5}, [] { return true; }), MediaCancelled);
}
