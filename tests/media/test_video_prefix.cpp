// A video's first seconds copied as they are (probe --video measures a server's decoding with them): every picture in
// the copy decodes, without error, to a picture of the original, whatever the container left out (Matroska gives its
// first packets no decoding time) and whatever the codec reorders.
#include "media/media_error.hpp"
#include "media/media_source.hpp"
#include "media/video_prefix.hpp"

#include "fixtures.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using jarvis::test::make_video;
using jarvis::test::run_process;
using jarvis::test::TempDir;

// The MD5 of each picture FFmpeg decodes from `video`, in presentation order; its errors must be none.
std::vector<std::string> picture_hashes(const fs::path& video)
{
    const auto r = run_process({"/usr/bin/ffmpeg", "-nostdin", "-v", "error", "-i", video.string(), "-map", "0:v:0", "-fps_mode", "passthrough",
                                "-f", "framemd5", "-"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty()); // no "reference picture missing", no concealment
    std::vector<std::string> hashes;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);)
        if (!line.empty() && line[0] != '#')
            hashes.push_back(line.substr(line.rfind(',') + 2));
    return hashes;
}

} // namespace

TEST_CASE("a video's first seconds copied decode to the original's pictures", "[media][video_prefix]")
{
    const std::vector<std::string> source = {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "6"};
    const auto with = [&](std::vector<std::string> codec) {
        std::vector<std::string> args = source;
        args.insert(args.end(), codec.begin(), codec.end());
        return args;
    };
    const auto [name, args] = GENERATE_COPY(
        std::pair<std::string, std::vector<std::string>>{"prefix_h264_bframes.mkv", with({"-c:v", "libx264", "-bf", "3", "-g", "45"})},
        std::pair<std::string, std::vector<std::string>>{"prefix_h264_bframes.mp4", with({"-c:v", "libx264", "-bf", "3", "-g", "45"})},
        std::pair<std::string, std::vector<std::string>>{"prefix_hevc10.mp4", with({"-c:v", "libx265", "-x265-params", "log-level=error:keyint=40",
                                                                                    "-pix_fmt", "yuv420p10le"})},
        std::pair<std::string, std::vector<std::string>>{"prefix_vp9.webm", with({"-c:v", "libvpx-vp9", "-deadline", "realtime", "-g", "40"})},
        std::pair<std::string, std::vector<std::string>>{"prefix_av1.mkv", with({"-c:v", "libsvtav1", "-preset", "12", "-g", "40"})},
        std::pair<std::string, std::vector<std::string>>{"prefix_mpeg4.avi", with({"-c:v", "mpeg4", "-g", "30"})});
    INFO(name);
    const fs::path video = make_video(name, args);
    const std::vector<std::string> original = picture_hashes(video);
    REQUIRE(original.size() == 180);
    TempDir dir;
    const fs::path copy = dir.path() / "prefix.mp4";
    jarvis::MediaSource source_video = jarvis::MediaSource::open(video.string());
    const int64_t written = jarvis::write_video_prefix(source_video, copy.string(), 2.0);
    // Two seconds in decoding order: about 60 pictures, give or take the reordering at the cut.
    CHECK(written >= 55);
    CHECK(written <= 65);
    const std::vector<std::string> copied = picture_hashes(copy);
    CHECK(int64_t(copied.size()) == written);
    const std::set<std::string> early_pictures(original.begin(), original.begin() + written + 16);
    for (size_t i = 0; i < copied.size(); ++i) {
        INFO("picture " << i);
        CHECK(early_pictures.count(copied[i]) == 1);
    }
    CHECK(copied.front() == original.front());
    // What the server's loader reads: the header's count and a rate.
    const jarvis::MediaInfo info = jarvis::MediaSource::open(copy.string()).info();
    CHECK(info.frame_count == written);
    CHECK(info.avg_fps == Approx(30).epsilon(0.1));
    CHECK(info.codec == source_video.info().codec);
}

TEST_CASE("a Matroska recording cut short (no cues where its header points) is copied from its start", "[media][video_prefix]")
{
    // As OBS leaves a recording when it crashes: sound and picture, the header's length and cues for all 30 s, data
    // for about one.
    const fs::path whole = make_video("prefix_recording_30s.mkv", {"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi",
                                                                    "-i", "sine", "-t", "30", "-c:v", "libx264", "-preset", "ultrafast",
                                                                    "-bf", "2", "-c:a", "aac"});
    TempDir dir;
    const fs::path cut = dir.path() / "crashed_recording.mkv";
    std::ofstream(cut, std::ios::binary) << jarvis::test::read_file(whole).substr(0, 300000);
    jarvis::MediaSource source = jarvis::MediaSource::open(cut.string());
    const fs::path copy = dir.path() / "prefix.mp4";
    const int64_t written = jarvis::write_video_prefix(source, copy.string(), 0.5);
    CHECK(written >= 13);
    CHECK(written <= 17);
    const std::vector<std::string> copied = picture_hashes(copy);
    CHECK(int64_t(copied.size()) == written);
    CHECK(copied.front() == picture_hashes(whole).front());
}

TEST_CASE("a prefix of a file that is not a video names it", "[media][video_prefix]")
{
    TempDir dir;
    const fs::path video = make_video("prefix_h264_bframes.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "6", "-c:v",
                                                                  "libx264", "-bf", "3", "-g", "45"});
    jarvis::MediaSource source = jarvis::MediaSource::open(video.string());
    CHECK_THROWS_WITH(jarvis::write_video_prefix(source, (dir.path() / "no such folder" / "prefix.mp4").string(), 2.0),
                      Catch::Matchers::Contains("prefix_h264_bframes.mp4") && Catch::Matchers::Contains("opening the file"));
}
