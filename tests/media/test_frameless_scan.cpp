// The scan of an MP4 or MOV by its sample tables (frameless_demuxer.hpp): the index the scan of every packet makes,
// for a fraction of the reading.
#include "bytes_read.hpp"
#include "fixtures.hpp"

#include "media/frame_index.hpp"
#include "media/frameless_demuxer.hpp"
#include "media/media_source.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace jarvis;
using namespace jarvis::test;

namespace {

std::vector<std::string> h264(const std::string& rate, const std::string& seconds, const std::vector<std::string>& more = {})
{
    std::vector<std::string> args = {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=" + rate, "-t", seconds, "-c:v", "libx264",
                                     "-bf", "3", "-g", "45"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

// The first `fraction` of a file's bytes, as a download or a copy stopped midway leaves it.
std::filesystem::path cut_short(const std::filesystem::path& whole, double fraction)
{
    const auto cut = whole.parent_path() / ("cut_" + whole.filename().string());
    std::filesystem::copy_file(whole, cut, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(cut, static_cast<uintmax_t>(double(std::filesystem::file_size(whole)) * fraction));
    return cut;
}

void check_same_index(const FrameIndex& frameless, const FrameIndex& scanned)
{
    INFO("sample tables: " << frameless.frames.size() << " frames to " << frameless.end_s << " s, damage '" << frameless.damage
                           << "'; every packet: " << scanned.frames.size() << " frames to " << scanned.end_s << " s, damage '"
                           << scanned.damage << "'");
    REQUIRE(frameless.frames.size() == scanned.frames.size());
    for (size_t i = 0; i < scanned.frames.size(); ++i) {
        INFO("frame " << i);
        CHECK(frameless.frames[i].pts == scanned.frames[i].pts);
        CHECK(frameless.frames[i].key == scanned.frames[i].key);
        CHECK(frameless.frames[i].keyframe == scanned.frames[i].keyframe);
    }
    CHECK(frameless.time_base.num == scanned.time_base.num);
    CHECK(frameless.time_base.den == scanned.time_base.den);
    CHECK(frameless.origin_pts == scanned.origin_pts);
    CHECK(frameless.end_s == scanned.end_s);
    CHECK(frameless.damage == scanned.damage);
}

} // namespace

TEST_CASE("the sample tables' scan gives the index the scan of every packet gives", "[media][index][frameless]")
{
    const std::vector<std::pair<std::string, std::vector<std::string>>> videos = {
        {"frameless_h264_bframes.mp4", h264("30", "12")},
        {"frameless_h264_faststart.mp4", h264("30", "12", {"-movflags", "+faststart"})},
        {"frameless_h264_audio.mov", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
                                      "-t", "10", "-c:v", "libx264", "-bf", "2", "-g", "50", "-c:a", "aac"}},
        {"frameless_hevc_10bit.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "10", "-c:v", "libx265", "-pix_fmt",
                                      "yuv420p10le", "-x265-params", "log-level=error:keyint=50", "-tag:v", "hvc1"}},
        {"frameless_av1.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=24", "-t", "6", "-c:v", "libaom-av1", "-cpu-used", "8",
                               "-g", "48"}},
        {"frameless_vfr.mp4", h264("30", "12", {"-vf", "setpts='if(lt(N,150),N/30,5+(N-150)*3/30)/TB'", "-fps_mode", "vfr"})},
        {"frameless_offset.mp4", h264("30", "12", {"-output_ts_offset", "7.5"})},
        {"frameless_odd_size.mp4", {"-f", "lavfi", "-i", "testsrc2=size=319x179:rate=30", "-t", "6", "-c:v", "libx264", "-bf", "2",
                                    "-pix_fmt", "yuv444p"}},
        {"frameless_fragmented.mp4", h264("30", "12", {"-movflags", "frag_keyframe+empty_moov"})},
        // What cameras, phones, screen recorders and editors also write: intra-only (no sync-sample table: every
        // sample is a keyframe), open GOPs, intra refresh (x264 lists its recovery points as sync samples), negative
        // composition offsets, two video tracks, HEVC with a B-pyramid in a MOV.
        {"frameless_intra_only.mp4", h264("30", "4", {"-g", "1"})},
        {"frameless_open_gop.mp4", h264("30", "12", {"-x264-params", "open-gop=1:scenecut=0"})},
        {"frameless_intra_refresh.mp4", h264("30", "12", {"-x264-params", "intra-refresh=1"})},
        {"frameless_negative_cts.mp4", h264("30", "12", {"-movflags", "negative_cts_offsets"})},
        {"frameless_two_video_tracks.mp4", {"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i",
                                            "testsrc2=size=320x240:rate=30", "-t", "6", "-map", "0", "-map", "1", "-c:v", "libx264",
                                            "-bf", "2"}},
        {"frameless_hevc_pyramid.mov", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "6", "-c:v", "libx265",
                                        "-x265-params", "log-level=error:bframes=4:b-pyramid=1:keyint=30:open-gop=0", "-tag:v", "hvc1"}},
    };
    for (const auto& [name, args] : videos) {
        const auto whole = make_video(name, args);
        std::vector<std::filesystem::path> cases = {whole};
        // A file cut short whose tables come first keeps them, and they list frames past its end: those must not be
        // made up. (Cut short, a file whose tables come last cannot be opened at all; a fragmented one, whose header
        // gives no duration, is not known to be cut.)
        const bool tables_first = name.find("faststart") != std::string::npos || name.find("fragmented") != std::string::npos;
        if (tables_first)
            cases.push_back(cut_short(whole, 0.6));
        for (const auto& video : cases) {
            INFO(video.filename().string());
            MediaSource source = MediaSource::open(video.string());
            const FrameIndex scanned = scan_frame_index_reading_every_packet(source, {});
            MediaSource other = MediaSource::open(video.string());
            // Otherwise both would be the scan of every packet.
            const bool fragmented = name.find("fragmented") != std::string::npos;
            CHECK((FramelessDemuxer::open(other, other.format()->interrupt_callback) != nullptr) == !fragmented);
            const FrameIndex frameless = scan_frame_index(other, {});
            check_same_index(frameless, scanned);
            if (video != whole && name.find("faststart") != std::string::npos)
                CHECK_FALSE(frameless.damage.empty());
        }
    }
}

TEST_CASE("the sample tables' scan is used for local MP4 and MOV of H.264, HEVC and AV1 only", "[media][index][frameless]")
{
    const auto used = [](const std::filesystem::path& video) {
        const MediaSource source = MediaSource::open(video.string());
        return FramelessDemuxer::open(source, source.format()->interrupt_callback) != nullptr;
    };
    CHECK(used(make_video("frameless_h264_bframes.mp4", h264("30", "12"))));
    // Matroska interleaves block headers with the frames: there is no table to read instead.
    CHECK_FALSE(used(make_video("frameless_h264.mkv", h264("30", "12"))));
    // FFmpeg parses VP9 packets whole in MP4 (mov.c): the tables alone might not be what the scan sees.
    CHECK_FALSE(used(make_video("frameless_vp9.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=24", "-t", "4", "-c:v",
                                                      "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-g", "48"})));
    CHECK_FALSE(used(make_video("frameless_mpegts.ts", h264("30", "4"))));
    // A fragmented MP4 (browsers' recordings, OBS's crash-safe option) lists its frames in fragments between them.
    CHECK_FALSE(used(make_video("frameless_fragmented.mp4", h264("30", "12", {"-movflags", "frag_keyframe+empty_moov"}))));
    CHECK_FALSE(used(make_video("frameless_fragmented_with_moov_samples.mp4", h264("30", "12", {"-movflags", "frag_keyframe"}))));
    // Its movie box at the end, as phones write it; and at the start.
    CHECK(used(make_video("frameless_h264_faststart.mp4", h264("30", "12", {"-movflags", "+faststart"}))));
}

TEST_CASE("the sample tables' scan of a long MP4 reads a small part of it", "[media][index][frameless]")
{
    // Two minutes, its index at the end (as phones and screen recorders write it) and at the start.
    const std::string name = GENERATE(std::string("frameless_long.mp4"), std::string("frameless_long_faststart.mp4"));
    INFO(name);
    std::vector<std::string> args = {"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "120", "-c:v", "libx264",
                                     "-preset", "ultrafast", "-g", "250"};
    if (name.find("faststart") != std::string::npos)
        args.insert(args.end(), {"-movflags", "+faststart"});
    const auto video = make_video(name, args);
    const auto size = static_cast<int64_t>(std::filesystem::file_size(video));

    MediaSource frameless_source = MediaSource::open(video.string());
    int64_t before = bytes_read_so_far();
    REQUIRE(before >= 0);
    const FrameIndex frameless = scan_frame_index(frameless_source, {});
    const int64_t frameless_read = bytes_read_so_far() - before;

    MediaSource source = MediaSource::open(video.string());
    before = bytes_read_so_far();
    const FrameIndex scanned = scan_frame_index_reading_every_packet(source, {});
    const int64_t scanned_read = bytes_read_so_far() - before;

    INFO("sample tables: " << frameless_read << " bytes, every packet: " << scanned_read << ", of " << size);
    CHECK(frameless.frames.size() == scanned.frames.size());
    CHECK(frameless.frames.size() == 3600);
    CHECK(frameless_read < size / 20);
    CHECK(scanned_read > size * 9 / 10);
}
