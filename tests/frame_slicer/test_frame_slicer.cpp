// frame_slicer through the real plugin .so on real videos of many kinds. Every frame in the test videos shows its
// own index, so each image sent can be checked: it is the frame whose time it claims, upright, at the right size.
#include "child_process.hpp"
#include "fixtures.hpp"
#include "frame_marks.hpp"
#include "heif_grid.hpp"
#include "plugin_loader.hpp"
#include "process.hpp"
#include "folder_server.hpp"
#include "recording_server.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cmath>
extern "C" {
#include <libavformat/version.h>
#include <libavutil/base64.h>
}
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <mutex>
#include <regex>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using nlohmann::json;
using namespace jarvis::test;

namespace {

jarvis::vision::Provider slicer(const json& config = json::object())
{
    const auto plugin = jarvis::host::load_plugin(build_plugin_dir() / "frame_slicer.so");
    return jarvis::vision::Provider(plugin, config.dump());
}

json plan(const fs::path& video, const std::string& loadout_options = "", const json& config = json::object())
{
    auto provider = slicer(config);
    return json::parse(provider.plan(json{{"video", video.string()}, {"prompt", "What happens?"},
                                          {"loadout", "vllm://m" + loadout_options}}.dump()));
}

struct SentFrame
{
    double claimed_s;   // from the "<t seconds>" text part, and media.frames[].pts_s
    GrayImage picture;
};

// The frames of a plan's request, checked for the request's shape on the way.
std::vector<SentFrame> sent_frames(const json& doc)
{
    const json& content = doc.at("request").at("messages").at(0).at("content");
    REQUIRE(content.at(0) == json{{"type", "text"}, {"text", "What happens?"}});
    const json& frames = doc.at("media").at("frames");
    REQUIRE(content.size() == 1 + 2 * frames.size());
    std::vector<SentFrame> out;
    for (size_t i = 0; i < frames.size(); ++i) {
        const json& marker = content.at(1 + 2 * i);
        const json& image = content.at(2 + 2 * i);
        const double pts = frames[i].at("pts_s").get<double>();
        char expected[48];
        std::snprintf(expected, sizeof expected, "<%.1f seconds>", pts);
        CHECK(marker.at("text") == expected);
        const std::string url = image.at("image_url").at("url").get<std::string>();
        REQUIRE(url.rfind("data:image/jpeg;base64,", 0) == 0);
        std::string jpeg;
        {
            // decode base64 with FFmpeg's own decoder to stay independent of the code under test
            const std::string b64 = url.substr(url.find(',') + 1);
            jpeg.resize(b64.size());
            const int n = av_base64_decode(reinterpret_cast<uint8_t*>(jpeg.data()), b64.c_str(), static_cast<int>(jpeg.size()));
            REQUIRE(n > 0);
            jpeg.resize(static_cast<size_t>(n));
        }
        CHECK(frames[i].at("bytes") == jpeg.size());
        GrayImage picture = decode_luma(jpeg);
        CHECK(picture.width == frames[i].at("width"));
        CHECK(picture.height == frames[i].at("height"));
        out.push_back({pts, std::move(picture)});
    }
    return out;
}

// Each sent picture is the frame whose time it claims, and upright.
void check_frames_are_true(const std::vector<SentFrame>& frames, const std::vector<double>& truth)
{
    REQUIRE_FALSE(frames.empty());
    double previous = -1;
    for (const auto& f : frames) {
        const int index = read_frame_mark(f.picture);
        INFO("claimed " << f.claimed_s << " s, picture shows frame " << index);
        REQUIRE(index >= 0);
        REQUIRE(static_cast<size_t>(index) < truth.size());
        CHECK(f.claimed_s == Approx(truth[static_cast<size_t>(index)]).margin(1e-3));
        CHECK(is_upright(f.picture));
        CHECK(f.claimed_s > previous); // time order, no frame twice
        previous = f.claimed_s;
    }
}

// A screen recorder's GIF (ScreenToGif, ShareX): each frame stores only what changed (one keyframe); delays are in
// 1/100 s, so it is made at 25 fps.
constexpr double screen_gif_fps = 25;
const std::vector<std::string> screen_gif_encoder = {"-c:v", "gif", "-gifflags", "+offsetting+transdiff"};

} // namespace

TEST_CASE("every image sent is the frame whose time it claims, for many codecs", "[frame_slicer][codecs]")
{
    struct Case
    {
        std::string name;
        std::vector<std::string> encoder;
        double fps = 24;
    };
    const std::vector<Case> cases = {
        {"marked_h264_bframes.mp4", {"-c:v", "libx264", "-bf", "3", "-g", "48", "-pix_fmt", "yuv420p"}},
        // OBS's x264 settings: reference B-frames that only their neighbours use are skipped (media_tests).
        {"marked_h264_obs.mp4", {"-c:v", "libx264", "-preset", "veryfast", "-x264-params", "keyint=48:bframes=2:b-pyramid=normal:ref=1", "-pix_fmt", "yuv420p"}},
        // Keyframes that are recovery points, not IDR pictures: frames are withheld until the refresh is whole.
        {"marked_h264_intra_refresh.mp4", {"-c:v", "libx264", "-x264-params", "keyint=24:intra-refresh=1:bframes=2", "-pix_fmt", "yuv420p"}},
        {"marked_hevc10.mkv", {"-c:v", "libx265", "-pix_fmt", "yuv420p10le", "-x265-params", "log-level=error:keyint=40:bframes=4"}},
        {"marked_vp9.webm", {"-c:v", "libvpx-vp9", "-b:v", "400k", "-g", "40", "-deadline", "realtime", "-cpu-used", "8"}},
        {"marked_av1.mkv", {"-c:v", "libaom-av1", "-b:v", "300k", "-g", "40", "-cpu-used", "8", "-row-mt", "1"}},
        {"marked_screen.gif", screen_gif_encoder, screen_gif_fps},
        {"marked_wmv2.wmv", {"-c:v", "wmv2", "-b:v", "600k", "-g", "40"}},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name)
        {
            const auto video = make_marked_video(c.name, 320, 192, c.fps, 4, c.encoder);
            const json doc = plan(video);
            CHECK(doc["plugin"] == "frame_slicer");
            CHECK(doc["media"]["width"] == 320);
            CHECK(doc["media"]["height"] == 192);
            const auto frames = sent_frames(doc);
            CHECK(frames.size() == 8); // 4 s at the default 2 fps
            check_frames_are_true(frames, true_frame_times(video));
            for (size_t k = 0; k < frames.size(); ++k) // played-at on a 0.5 s grid of a 24 fps video
                CHECK(frames[k].claimed_s == Approx(0.5 * double(k)).margin(1.0 / c.fps));
            CHECK(doc["estimate"]["visual_tokens"].get<int>() > 8 * 60);
            // Keyframe mode finds its keyframes by seeking, in every container: still true times.
            check_frames_are_true(sent_frames(plan(video, "#seek=keyframe")), true_frame_times(video));
        }
    }
}

TEST_CASE("on variable-frame-rate video samples are even in time and carry true times", "[frame_slicer][vfr]")
{
    // 30 fps for the first 2 s, then frames 4 times further apart: index/fps guesses drift by seconds here.
    const auto video = make_marked_video("marked_vfr.mkv", 320, 192, 30, 6, {"-c:v", "libx264", "-bf", "2", "-fps_mode", "vfr"},
                                         "setpts='if(lt(N,60),N/30,2+(N-60)*4/30)/TB'");
    const auto truth = true_frame_times(video);
    REQUIRE(truth.size() == 180);
    REQUIRE(truth.back() > 17);
    const json doc = plan(video, "#fps=1");
    const auto frames = sent_frames(doc);
    check_frames_are_true(frames, truth);
    // Played-at: the frame on screen at each whole second (the last one not after it).
    REQUIRE(frames.size() >= 17);
    for (size_t k = 0; k < frames.size(); ++k) {
        const double t = double(k);
        const auto on_screen = std::upper_bound(truth.begin(), truth.end(), t + 1e-9) - 1;
        CHECK(frames[k].claimed_s == Approx(*on_screen).margin(1e-6));
    }
}

TEST_CASE("rotation metadata is applied: portrait phone video arrives upright and portrait", "[frame_slicer][rotation]")
{
    // Stored sideways (transposed), displayed upright by a 90-degree display matrix, as phones record.
    const auto video = make_marked_video("marked_rotated.mp4", 192, 320, 25, 2, {"-c:v", "libx264"}, "transpose=2");
    set_mp4_rotation(video, 90);
    const json doc = plan(video);
    CHECK(doc["media"]["width"] == 192);
    CHECK(doc["media"]["height"] == 320);
    const auto frames = sent_frames(doc);
    for (const auto& f : frames)
        CHECK(f.picture.height > f.picture.width);
    check_frames_are_true(frames, true_frame_times(video));
}

TEST_CASE("a video whose timestamps start late is timed from its first frame", "[frame_slicer][start]")
{
    const auto video = make_marked_video("marked_offset.ts", 320, 192, 25, 3, {"-c:v", "libx264", "-output_ts_offset", "7.5", "-f", "mpegts"});
    const json doc = plan(video);
    const auto frames = sent_frames(doc);
    check_frames_are_true(frames, true_frame_times(video));
    CHECK(frames.front().claimed_s == Approx(0).margin(1e-6));
    CHECK(doc["media"]["duration_s"].get<double>() == Approx(3).margin(0.1));
    check_frames_are_true(sent_frames(plan(video, "#seek=keyframe")), true_frame_times(video));
}

TEST_CASE("odd sizes and interlaced sources", "[frame_slicer][sizes]")
{
    SECTION("odd size")
    {
        // 4:2:0 cannot have odd sizes; 4:4:4 can (and exercises that conversion too).
        const auto video = make_marked_video("marked_odd.mp4", 321, 241, 25, 2, {"-c:v", "libx264", "-pix_fmt", "yuv444p"},
                                             "format=yuv444p,scale=321:241");
        const json doc = plan(video);
        const auto frames = sent_frames(doc);
        check_frames_are_true(frames, true_frame_times(video));
        CHECK(frames[0].picture.width % 32 == 0);
        CHECK(frames[0].picture.height % 32 == 0);
    }
    SECTION("interlaced")
    {
        // Coded as interlaced (both fields of each picture from one moment): the field path must keep the frame.
        const auto video = make_marked_video("marked_interlaced.ts", 320, 192, 25, 2,
                                             {"-c:v", "libx264", "-flags", "+ildct+ilme", "-x264opts", "interlaced=1:tff=1", "-f", "mpegts"},
                                             "setfield=tff");
        const json doc = plan(video);
        check_frames_are_true(sent_frames(doc), true_frame_times(video));
    }
    SECTION("interlaced fields that differ show no combing")
    {
        // Top field white, bottom field black: a frame scaled as a whole comes out grey; one field comes out white.
        const auto video = make_video("combed.ts", {"-f", "lavfi", "-i", "color=c=black:size=320x192:rate=25:duration=1,format=yuv420p,"
                                                    "geq=lum='if(mod(Y,2),16,235)':cb=128:cr=128,setfield=tff",
                                                    "-c:v", "libx264", "-crf", "8", "-flags", "+ildct+ilme", "-x264opts", "interlaced=1:tff=1",
                                                    "-f", "mpegts"});
        const json doc = plan(video);
        for (const auto& f : sent_frames(doc)) {
            long sum = 0;
            for (unsigned char p : f.picture.pixels)
                sum += p;
            CHECK(double(sum) / double(f.picture.pixels.size()) > 200);
        }
    }
}

TEST_CASE("a photo handed over as a video is its one frame", "[frame_slicer][sources]")
{
    // FFmpeg reads a .jpg of a photo's size with its image2 demuxer (a tiny one with jpeg_pipe), whose seek left the
    // picture unreadable once the index had read it. The noise gives the JPEG that size; a PNG is read by png_pipe.
    for (const std::string name : {"marked_photo.jpg", "marked_photo.png"}) {
        const auto photo = make_marked_video(name, 640, 384, 24, 1, {"-frames:v", "1"}, "noise=alls=10:allf=t");
        for (const std::string seek : {"", "#seek=keyframe"}) {
            INFO(name << seek);
            const json doc = plan(photo, seek);
            const std::vector<SentFrame> frames = sent_frames(doc);
            REQUIRE(frames.size() == 1);
            CHECK(read_frame_mark(frames[0].picture) == 0);
            CHECK(frames[0].claimed_s == 0.0);
            CHECK(doc["media"]["width"] == 640);
            CHECK(doc["media"]["height"] == 384);
            CHECK_THAT(doc["warnings"].dump(), Contains(seek.empty() ? "1 distinct frame for" : "1 distinct keyframe for"));
        }
    }
    // An AVIF as libheif writes it (one item, no movie box): FFmpeg 5.1 reads it, as only a HEIC is refused.
    TempDir dir;
    const fs::path avif = dir.path() / "marked_photo.avif";
    const auto png = make_marked_video("marked_photo.png", 640, 384, 24, 1, {"-frames:v", "1"}, "noise=alls=10:allf=t");
    REQUIRE(run_process({"/usr/bin/heif-enc", "--avif", "-q", "90", png.string(), "-o", avif.string()}).exit_code == 0);
    const std::vector<SentFrame> frames = sent_frames(plan(avif));
    REQUIRE(frames.size() == 1);
    CHECK(read_frame_mark(frames[0].picture) == 0);
}

TEST_CASE("the video stream is chosen, never cover art, and URLs are read over HTTP", "[frame_slicer][sources]")
{
    const auto video = make_marked_video("marked_h264_bframes.mp4", 320, 192, 24, 4, {"-c:v", "libx264", "-bf", "3", "-g", "48", "-pix_fmt", "yuv420p"});
    TempDir dir;
    // Cover art first: an attached picture stream (a PNG) ahead of the real video.
    const fs::path cover = dir.path() / "cover.png";
    REQUIRE(run_process({"/usr/bin/ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=red:size=640x640", "-frames:v", "1", cover.string()}).exit_code == 0);
    const fs::path with_cover = dir.path() / "with_cover.mp4";
    REQUIRE(run_process({"/usr/bin/ffmpeg", "-v", "error", "-i", video.string(), "-i", cover.string(), "-map", "1", "-map", "0", "-c", "copy",
                         "-disposition:v:0", "attached_pic", with_cover.string()})
                .exit_code == 0);
    const json doc = plan(with_cover);
    CHECK(doc["media"]["width"] == 320);
    check_frames_are_true(sent_frames(doc), true_frame_times(video));

    httplib::Server media;
    const std::string bytes = read_file(video);
    media.Get("/clip.mp4", [&](const httplib::Request&, httplib::Response& res) { res.set_content(bytes, "video/mp4"); });
    // A download link that redirects to the file, as release assets and CDNs do.
    media.Get("/download", [&](const httplib::Request&, httplib::Response& res) { res.set_redirect("/clip.mp4", 302); });
    const int port = media.bind_to_any_port("127.0.0.1");
    std::thread serving([&] { media.listen_after_bind(); });
    const json from_url = plan("http://127.0.0.1:" + std::to_string(port) + "/clip.mp4");
    check_frames_are_true(sent_frames(from_url), true_frame_times(video));
    const json redirected = plan("http://127.0.0.1:" + std::to_string(port) + "/download");
    check_frames_are_true(sent_frames(redirected), true_frame_times(video));
    media.stop();
    serving.join();
}

namespace {

// The files a plan leaves in `dir` (its temporary folder).
std::vector<fs::path> files_in(const fs::path& dir)
{
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir))
        files.push_back(entry.path());
    return files;
}

// 4 s of marked video in 1-second MPEG-TS segments (part0.ts ... part3.ts) under clip.m3u8 in `folder`, as a site
// serves a video on demand. Returns the marked video the segments were cut from.
fs::path make_hls_site(const fs::path& folder)
{
    const auto video = make_marked_video("marked_h264_for_hls.mp4", 320, 192, 24, 4, {"-c:v", "libx264", "-bf", "2", "-g", "24", "-pix_fmt", "yuv420p"});
    REQUIRE(run_process({"/usr/bin/ffmpeg", "-v", "error", "-i", video.string(), "-c", "copy", "-f", "hls", "-hls_time", "1",
                         "-hls_playlist_type", "vod", "-hls_segment_filename", (folder / "part%d.ts").string(), (folder / "clip.m3u8").string()})
                .exit_code == 0);
    return video;
}

// clip.m3u8 of make_hls_site with its third segment renamed silent.ts (for a FolderServer that never answers it).
// Returns the playlist's new text.
std::string silence_third_segment(const fs::path& folder)
{
    std::string playlist = read_file(folder / "clip.m3u8");
    playlist.replace(playlist.find("part2.ts"), 8, "silent.ts");
    std::ofstream(folder / "clip.m3u8") << playlist;
    return playlist;
}

// jarvis-host's plan of `url` with the real plugins, as a separate process: its exit code and lines are the result.
ProcessResult host_plan(const std::string& url, std::vector<std::string> options = {}, const std::vector<std::string>& env = {})
{
    std::vector<std::string> args = {host_binary().string(), "--plugin-dir", build_plugin_dir().string(), "--loadout", "vllm://m"};
    args.insert(args.end(), options.begin(), options.end());
    for (const char* rest : {"plan", "--video", url.c_str(), "--prompt", "What happens?", "--json"})
        args.emplace_back(rest);
    return run_process(args, std::chrono::seconds(90), env);
}

} // namespace

TEST_CASE("an HLS playlist URL is read through its segments, a live one is refused at once", "[frame_slicer][http][hls]")
{
    TempDir site;
    const fs::path video = make_hls_site(site.path());
    FolderServer server(site.path());
    const json doc = plan(server.url("clip.m3u8"));
    const auto frames = sent_frames(doc);
    CHECK(frames.size() == 8); // 2 a second
    check_frames_are_true(frames, true_frame_times(video));
    CHECK(frames.back().claimed_s > 3.0); // from the last segment, not only the first
    CHECK_THAT(doc["warnings"].dump(), !Contains("no frames from"));
    // Each segment crossed the network once: into the local copy that finding the frames and decoding both read.
    for (const std::string name : {"part0.ts", "part1.ts", "part2.ts", "part3.ts"}) {
        INFO(name);
        CHECK(server.bytes_sent(name) == fs::file_size(site.path() / name));
    }

    // The same playlist still being written (no #EXT-X-ENDLIST): it has no end to sample up to.
    std::string playlist = read_file(site.path() / "clip.m3u8");
    playlist.erase(playlist.find("#EXT-X-ENDLIST"));
    playlist.replace(playlist.find("#EXT-X-PLAYLIST-TYPE:VOD"), 24, "#EXT-X-PLAYLIST-TYPE:EVENT");
    std::ofstream(site.path() / "live.m3u8") << playlist;
    const auto refused = host_plan(server.url("live.m3u8"));
    CHECK(refused.exit_code == 3);
    CHECK_THAT(refused.err, Contains(server.url("live.m3u8")) && Contains("live HLS playlist"));

    // A playlist from a server that names this machine's files: they are not read (and never sent to the model).
    std::string local = read_file(site.path() / "clip.m3u8");
    const std::string here = "file://" + site.path().string() + "/";
    for (size_t at = 0; (at = local.find("part", at)) != std::string::npos; at += here.size() + 4)
        local.insert(at, here);
    std::ofstream(site.path() / "local.m3u8") << local;
    const auto local_refused = host_plan(server.url("local.m3u8"));
    CHECK(local_refused.exit_code == 3);
    CHECK_THAT(local_refused.err, Contains(server.url("local.m3u8")) && Contains("segment 'file://"));
}

TEST_CASE("an HLS playlist of fragmented MP4 segments (CMAF) is read once, at the frames' true times", "[frame_slicer][http][hls]")
{
    TempDir site;
    const auto video = make_marked_video("marked_h264_for_hls.mp4", 320, 192, 24, 4, {"-c:v", "libx264", "-bf", "2", "-g", "24", "-pix_fmt", "yuv420p"});
    REQUIRE(run_process({"/usr/bin/ffmpeg", "-v", "error", "-i", video.string(), "-c", "copy", "-f", "hls", "-hls_time", "1", "-hls_playlist_type",
                         "vod", "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4", "-hls_segment_filename",
                         (site.path() / "part%d.m4s").string(), (site.path() / "clip.m3u8").string()})
                .exit_code == 0);
    REQUIRE(read_file(site.path() / "clip.m3u8").find("#EXT-X-MAP:URI=\"init.mp4\"") != std::string::npos);
    FolderServer server(site.path());
    const auto frames = sent_frames(plan(server.url("clip.m3u8")));
    CHECK(frames.size() == 8);
    check_frames_are_true(frames, true_frame_times(video));
    for (const std::string name : {"init.mp4", "part0.m4s", "part1.m4s", "part2.m4s", "part3.m4s"}) {
        INFO(name);
        CHECK(server.bytes_sent(name) == fs::file_size(site.path() / name));
    }
}

TEST_CASE("copying a URL's video and scanning the copy report one progress, rising from 0 to 1", "[frame_slicer][http][hls]")
{
    TempDir site;
    // 720 frames: the copy and the scan each report every 256 packets, so each reports more than once.
    const auto video = make_marked_video("marked_h264_30s.mp4", 320, 192, 24, 30, {"-c:v", "libx264", "-g", "24", "-pix_fmt", "yuv420p"});
    REQUIRE(run_process({"/usr/bin/ffmpeg", "-v", "error", "-i", video.string(), "-c", "copy", "-f", "hls", "-hls_time", "1",
                         "-hls_playlist_type", "vod", "-hls_segment_filename", (site.path() / "part%d.ts").string(),
                         (site.path() / "clip.m3u8").string()})
                .exit_code == 0);
    // Over 4 MB: the download reports after each MB.
    REQUIRE(run_process({"/usr/bin/ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=24", "-t", "12", "-c:v", "libx264",
                         "-preset", "ultrafast", "-qp", "10", "-g", "24", "-pix_fmt", "yuv420p", (site.path() / "clip.ts").string()})
                .exit_code == 0);
    FolderServer server(site.path());
    // A playlist is copied segment by segment, an MPEG-TS file downloaded whole; then each copy is scanned.
    for (const auto& [name, frames] : std::vector<std::pair<std::string, size_t>>{{"clip.m3u8", 60}, {"clip.ts", 24}}) {
        INFO(name);
        std::vector<double> index_progress;
        jarvis::vision::CallHandlers handlers;
        handlers.on_progress = [&](std::string_view stage, double f) {
            if (stage == "index" && f >= 0)
                index_progress.push_back(f);
        };
        const json doc = json::parse(
            slicer().plan(json{{"video", server.url(name)}, {"prompt", "What happens?"}, {"loadout", "vllm://m"}}.dump(), handlers));
        REQUIRE(sent_frames(doc).size() == frames);
        INFO(json(index_progress).dump());
        CHECK(std::is_sorted(index_progress.begin(), index_progress.end()));
        // The copy fills most of the bar (below 0.9) and the scan the rest: the bar never starts over.
        CHECK(std::count_if(index_progress.begin(), index_progress.end(), [](double f) { return f > 0 && f < 0.9; }) >= 1);
        CHECK(std::count_if(index_progress.begin(), index_progress.end(), [](double f) { return f >= 0.9; }) >= 2);
        CHECK(index_progress.back() == 1.0); // the index is whole
    }
}

TEST_CASE("an encrypted HLS playlist (AES-128) is read with the key its server gives", "[frame_slicer][http][hls]")
{
    TempDir site;
    FolderServer server(site.path());
    const auto video = make_marked_video("marked_h264_for_hls.mp4", 320, 192, 24, 4, {"-c:v", "libx264", "-bf", "2", "-g", "24", "-pix_fmt", "yuv420p"});
    std::ofstream(site.path() / "key.bin", std::ios::binary) << "0123456789abcdef";
    // FFmpeg's key info file: the key's URI as the playlist gives it, where the muxer reads it, the IV.
    std::ofstream(site.path() / "keyinfo.txt") << server.url("key.bin") << "\n" << (site.path() / "key.bin").string()
                                               << "\n00112233445566778899aabbccddeeff\n";
    REQUIRE(run_process({"/usr/bin/ffmpeg", "-v", "error", "-i", video.string(), "-c", "copy", "-f", "hls", "-hls_time", "1",
                         "-hls_playlist_type", "vod", "-hls_key_info_file", (site.path() / "keyinfo.txt").string(),
                         "-hls_segment_filename", (site.path() / "part%d.ts").string(), (site.path() / "clip.m3u8").string()})
                .exit_code == 0);
    REQUIRE_THAT(read_file(site.path() / "clip.m3u8"), Contains("METHOD=AES-128"));
    const auto frames = sent_frames(plan(server.url("clip.m3u8")));
    CHECK(frames.size() == 8);
    check_frames_are_true(frames, true_frame_times(video));
    CHECK(server.bytes_sent("key.bin") > 0);
}

// A site's usual offer: one video at two sizes (v0 320x192, v1 160x96), 8 s in 1-second segments each, in `folder`:
// master.m3u8, v0.m3u8, v1.m3u8 and the segments v0_0.ts .. v1_7.ts.
void make_two_size_site(const fs::path& folder)
{
    fs::create_directories(folder);
    REQUIRE(run_process({"/usr/bin/ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x192:rate=24", "-t", "8",
                         "-filter_complex", "[0:v]split=2[a][b];[b]scale=160:96[small]", "-map", "[a]", "-map", "[small]", "-c:v",
                         "libx264", "-preset", "ultrafast", "-g", "24", "-b:v:0", "400k", "-b:v:1", "100k", "-f", "hls", "-hls_time",
                         "1", "-hls_playlist_type", "vod", "-master_pl_name", "master.m3u8", "-var_stream_map", "v:0 v:1",
                         "-hls_segment_filename", (folder / "v%v_%d.ts").string(), (folder / "v%v.m3u8").string()})
                .exit_code == 0);
}

// The bytes the server sent of one variant's 8 segments, and their size.
std::pair<size_t, size_t> variant_bytes(const FolderServer& server, const fs::path& folder, const std::string& variant,
                                        const std::string& prefix = "")
{
    size_t sent = 0;
    size_t size = 0;
    for (int i = 0; i < 8; ++i) {
        const std::string name = variant + "_" + std::to_string(i) + ".ts";
        sent += server.bytes_sent(prefix + name);
        size += fs::file_size(folder / name);
    }
    return {sent, size};
}

TEST_CASE("of an HLS master playlist only the smallest variant that gives the frames their size is fetched", "[frame_slicer][http][hls]")
{
    TempDir site;
    make_two_size_site(site.path());
    // Frames of Qwen's smallest image size (over 320x192) need the large variant; of 160x96 (max_pixels) the small
    // one does.
    const auto [options, sampled, skipped, width] = GENERATE(table<std::string, std::string, std::string, int>(
        {{"", "v0", "v1", 320}, {"#max_pixels=15360", "v1", "v0", 160}}));
    // A master that gives its variants' sizes is chosen from before anything is fetched; one that does not, once
    // FFmpeg has read every variant's streams.
    const bool sizes_in_master = GENERATE(true, false);
    INFO("loadout options '" << options << "', sizes in the master: " << sizes_in_master);
    std::string master = read_file(site.path() / "master.m3u8");
    REQUIRE_THAT(master, Contains("RESOLUTION=320x192") && Contains("RESOLUTION=160x96"));
    if (!sizes_in_master) {
        for (const std::string size : {",RESOLUTION=320x192", ",RESOLUTION=160x96"})
            master.erase(master.find(size), size.size());
        std::ofstream(site.path() / "master.m3u8", std::ios::binary | std::ios::trunc) << master;
    }
    FolderServer server(site.path());
    const json doc = plan(server.url("master.m3u8"), options);
    CHECK(doc["media"]["width"] == width);
    const auto frames = doc["media"]["frames"];
    CHECK(frames.size() == 16);
    for (const auto& f : frames)
        CHECK(f["width"].get<int>() >= width); // never made from fewer pixels than they have
    const auto [sampled_sent, sampled_size] = variant_bytes(server, site.path(), sampled);
    CHECK(sampled_sent == sampled_size);
    const auto [skipped_sent, skipped_size] = variant_bytes(server, site.path(), skipped);
    INFO(skipped_sent << " of " << skipped << "'s " << skipped_size << " bytes sent");
    if (sizes_in_master)
        CHECK(skipped_sent == 0);
    else // finding the streams reads the other variant's first second or two; nothing of it after that
        CHECK(skipped_sent < skipped_size / 2);
}

TEST_CASE("a playlist reached through a redirect names its segments from where it was found", "[frame_slicer][http][hls]")
{
    // The site's playlist is in a folder of its own; the link given is a short one that redirects there. Resolved
    // against the short link, the segments' URLs would not exist.
    TempDir site;
    fs::create_directories(site.path() / "shows");
    const fs::path video = make_hls_site(site.path() / "shows");
    FolderServer server(site.path(), {}, {{"watch.m3u8", "shows/clip.m3u8"}});
    const auto frames = sent_frames(plan(server.url("watch.m3u8")));
    CHECK(frames.size() == 8);
    check_frames_are_true(frames, true_frame_times(video));
    CHECK(server.bytes_sent("shows/part3.ts") == fs::file_size(site.path() / "shows" / "part3.ts"));
}

TEST_CASE("a master playlist reached through a redirect names its variants from where it was found", "[frame_slicer][http][hls]")
{
    // As above, for a master: its variants' URLs resolve against where it was found.
    TempDir site;
    make_two_size_site(site.path() / "shows");
    FolderServer server(site.path(), {}, {{"watch.m3u8", "shows/master.m3u8"}});
    const json doc = plan(server.url("watch.m3u8"), "#max_pixels=15360");
    CHECK(doc["media"]["width"] == 160);
    CHECK(doc["media"]["frames"].size() == 16);
    CHECK(server.bytes_sent("shows/master.m3u8") > 0);
    const auto [small_sent, small_size] = variant_bytes(server, site.path() / "shows", "v1", "shows/");
    CHECK(small_sent == small_size);
    // Resolved against the short link instead, the variants' URLs would not exist, and the master would be read whole.
    CHECK(variant_bytes(server, site.path() / "shows", "v0", "shows/").first == 0);
}

TEST_CASE("a master playlist at a URL that does not name one is known by its first bytes", "[frame_slicer][http][hls]")
{
    // Sites serve masters from paths of their own ("manifest(format=m3u8-aapl)", "/play?id=..."): the text, not the
    // name, says what it is, and only the variant the frames need is fetched.
    TempDir site;
    make_two_size_site(site.path());
    fs::copy_file(site.path() / "master.m3u8", site.path() / "manifest");
    FolderServer server(site.path());
    // Also with no cache of what was read (video_url.cache_mb 0): the first bytes are still looked at.
    const json config = GENERATE(json::object(), json{{"video_url", {{"cache_mb", 0}}}});
    INFO(config.dump());
    const json doc = plan(server.url("manifest"), "#max_pixels=15360", config);
    CHECK(doc["media"]["width"] == 160);
    CHECK(doc["media"]["frames"].size() == 16);
    const auto [small_sent, small_size] = variant_bytes(server, site.path(), "v1");
    CHECK(small_sent == small_size);
    CHECK(variant_bytes(server, site.path(), "v0").first == 0);
    // Its text is read on the connection whose first bytes showed it, as a named master's is read once.
    CHECK(server.requests("manifest") == 1);
}

TEST_CASE("a media playlist at a URL that does not name one is read as a playlist", "[frame_slicer][http][hls]")
{
    // FFmpeg 7.1 takes text for a playlist only under a playlist's name or MIME type (scripts/check_ffmpeg_versions.sh
    // runs this there); the first bytes say it is one.
    TempDir site;
    const fs::path video = make_hls_site(site.path());
    fs::copy_file(site.path() / "clip.m3u8", site.path() / "watch");
    FolderServer server(site.path());
    const auto frames = sent_frames(plan(server.url("watch")));
    CHECK(frames.size() == 8);
    check_frames_are_true(frames, true_frame_times(video));
    // Its first bytes, with the text up to the first segment, then FFmpeg's reading: a named one is read twice too.
    CHECK(server.requests("watch") == 2);
}

TEST_CASE("an HLS master whose chosen variant cannot be read is read as FFmpeg reads it", "[frame_slicer][http][hls]")
{
    // The small variant's playlist is gone (a site's stale master): its segments are still there, but only the
    // large variant can be read through a playlist.
    TempDir site;
    make_two_size_site(site.path());
    fs::remove(site.path() / "v1.m3u8");
    FolderServer server(site.path());
    const json doc = plan(server.url("master.m3u8"), "#max_pixels=15360");
    CHECK(doc["media"]["width"] == 320);
    CHECK(doc["media"]["frames"].size() == 16);
    CHECK(server.requested("v1.m3u8", std::chrono::seconds(0)));
}

TEST_CASE("an HLS playlist that cannot be copied is read from the network instead", "[frame_slicer][http][hls]")
{
    TempDir site;
    const fs::path video = make_hls_site(site.path());
    FolderServer server(site.path());
    SECTION("no temporary folder: nothing was read yet")
    {
        const auto r = host_plan(server.url("clip.m3u8"), {}, {"TMPDIR=" + (site.path() / "missing").string()});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        CHECK_THAT(r.err, Contains("read over the network twice: no temporary folder"));
        const auto frames = sent_frames(json::parse(r.out));
        CHECK(frames.size() == 8);
        check_frames_are_true(frames, true_frame_times(video));
    }
    SECTION("timestamps an MP4 cannot hold: the copy is given up midway, and the playlist read again from its start")
    {
        // The last segment again after the first: time goes back at the second segment's end.
        std::string playlist = read_file(site.path() / "clip.m3u8");
        const size_t second = playlist.find("#EXTINF", playlist.find("part0.ts"));
        const size_t last = playlist.find("#EXTINF", playlist.find("part2.ts"));
        playlist.insert(playlist.find("#EXTINF", second + 1), playlist.substr(last, playlist.find("part3.ts") + 9 - last));
        std::ofstream(site.path() / "back.m3u8") << playlist;
        TempDir temp;
        const auto r = host_plan(server.url("back.m3u8"), {}, {"TMPDIR=" + temp.path().string()});
        INFO(playlist << r.err);
        REQUIRE(r.exit_code == 0);
        CHECK_THAT(r.err, Contains("read over the network twice: writing a packet to"));
        CHECK(files_in(temp.path()).empty());
        // Read from the start, not from where the copy stopped: the frames of a plan that never tried a copy.
        const auto never_copied = host_plan(server.url("back.m3u8"), {}, {"TMPDIR=" + (site.path() / "missing").string()});
        REQUIRE(never_copied.exit_code == 0);
        const json frames = json::parse(r.out)["media"]["frames"];
        REQUIRE(!frames.empty());
        CHECK(frames == json::parse(never_copied.out)["media"]["frames"]); // with the copy's reading left: 2 frames, not 7
    }
}

TEST_CASE("an HLS segment whose server goes silent is given up after the I/O timeout, not waited for", "[frame_slicer][http][hls]")
{
    TempDir site;
    const fs::path video = make_hls_site(site.path());
    const std::string playlist = silence_third_segment(site.path());
    FolderServer server(site.path(), {"silent.ts"});
    TempDir dir;
    const fs::path config = dir.path() / "config.json";
    std::ofstream(config) << json{{"video_url", {{"timeout_s", 2}}}}.dump();
    // The playlist from the site, and the same playlist saved on this machine (its segments still on the site).
    std::string saved = playlist;
    for (size_t at = 0; (at = saved.find(".ts", at)) != std::string::npos; at += 3) {
        const size_t line = saved.rfind('\n', at) + 1;
        saved.insert(line, server.url(""));
        at += server.url("").size();
    }
    std::ofstream(dir.path() / "saved.m3u8") << saved;
    const std::string source = GENERATE(as<std::string>{}, "url", "saved file");
    TempDir temp;
    const auto r = host_plan(source == "url" ? server.url("clip.m3u8") : (dir.path() / "saved.m3u8").string(), {"--config", config.string()},
                             {"TMPDIR=" + temp.path().string()});
    INFO(source << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(files_in(temp.path()).empty()); // the copy is gone with the plan
    // The other segments were fetched once, into the copy (the saved playlist's too: its segments are the site's).
    for (const std::string name : {"part0.ts", "part1.ts", "part3.ts"}) {
        INFO(name);
        CHECK(server.bytes_sent(name) == fs::file_size(site.path() / name));
    }
    // The frames of the other segments, each the frame its time claims; none from the silent one (2 to 3 s).
    const json doc = json::parse(r.out);
    const auto frames = sent_frames(doc);
    check_frames_are_true(frames, true_frame_times(video));
    CHECK(frames.back().claimed_s > 3.0);
    for (const auto& f : frames)
        CHECK((f.claimed_s < 2.0 || f.claimed_s >= 3.0));
    // And the user is told: the last frame before the gap is at 47/24 s, the first after it at 3 s.
    CHECK_THAT(doc["warnings"].dump(), Contains("no frames from 2.0 s to 3.0 s: a segment of the playlist could not be read"));
}

// Serves one file as a web server does (Range requests) and counts the bytes it sent. A small send buffer keeps what
// is in flight when a client closes a connection to seek elsewhere to a few hundred KB. With `stall_at` (a share of
// the file) it stops sending once that much is sent in all, as a stalled server does, until it is destroyed; after
// `stall_from` (a share) it sends nothing at or past that offset of the file; after `close_from`, it closes the
// connection there, the body cut short of its announced length.
class CountingFileServer
{
public:
    enum class Ranges { taken, ignored };
    // With Ranges::ignored it answers as servers without range requests do (Python's http.server, many a dynamic
    // page): every body whole from its first byte, 200 OK, no "Accept-Ranges".
    explicit CountingFileServer(const fs::path& file, double stall_at = 0, Ranges ranges = Ranges::taken)
        : bytes_(read_file(file)), name_(file.filename().string()), stall_after_(static_cast<size_t>(stall_at * double(bytes_.size())))
    {
        server_.set_socket_options([](int socket) {
            const int small = 64 * 1024;
            const int yes = 1;
            ::setsockopt(socket, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
            ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        });
        server_.Get("/" + name_, [this, ranges](const httplib::Request& req, httplib::Response& res) {
            ++requests_;
            // httplib applies the ranges it parsed when it writes the response; the request is its own, not const.
            if (ranges == Ranges::ignored)
                const_cast<httplib::Request&>(req).ranges.clear();
            res.set_content_provider(bytes_.size(), "application/octet-stream", [this](size_t offset, size_t length, httplib::DataSink& sink) {
                if (close_from_ > 0 && offset >= close_from_)
                    return false;
                if ((stall_after_ > 0 && sent_ >= stall_after_) || (stall_from_ > 0 && offset >= stall_from_)) {
                    std::unique_lock lock(mutex_);
                    released_.wait(lock, [this] { return stopping_; });
                    return false;
                }
                const size_t n = std::min<size_t>(length, 64 * 1024);
                if (!sink.write(bytes_.data() + offset, n))
                    return false;
                sent_ += n;
                return true;
            });
        });
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
    }
    ~CountingFileServer()
    {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        released_.notify_all();
        server_.stop();
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/" + name_; }
    void stall_from(double share) { stall_from_ = static_cast<size_t>(share * double(bytes_.size())); }
    void close_from(double share) { close_from_ = static_cast<size_t>(share * double(bytes_.size())); }
    // The share of the file sent since the last call.
    double share_sent()
    {
        const double share = double(sent_.exchange(0)) / double(bytes_.size());
        return share;
    }
    // The requests for the file since the last call.
    size_t requests() { return requests_.exchange(0); }

private:
    std::string bytes_;
    std::string name_;
    size_t stall_after_ = 0;
    std::atomic<size_t> stall_from_{0};
    std::atomic<size_t> close_from_{0};
    std::mutex mutex_;
    std::condition_variable released_;
    bool stopping_ = false;
    httplib::Server server_;
    std::atomic<size_t> sent_{0};
    std::atomic<size_t> requests_{0};
    int port_ = 0;
    std::thread thread_;
};

TEST_CASE("an http(s) video is read by ranges: 8 exact frames take a fraction of it, a frame in every interval all of it", "[frame_slicer][http][ranges]")
{
    // A minute of noise (nothing to compress) with a keyframe every second: each frame needed costs its own bytes.
    // Matroska (OBS's screen recordings) finds its intervals through its cues, MP4 through its sample tables.
    const std::string container = GENERATE(std::string("mp4"), std::string("mkv"));
    INFO(container);
    const auto video = make_video("noise_gop30_60s." + container, {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "60", "-vf",
                                                          "noise=alls=60:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-g", "30",
                                                          "-bf", "2", "-pix_fmt", "yuv420p"});
    CountingFileServer server(video);
    // Encoded frames are kept for follow-ups (conversation.cache_mb) as long as the plugin stays loaded, which under
    // ASan it does between the plans: off, so that each plan reads what it needs.
    const json no_follow_ups = {{"conversation", {{"cache_mb", 0}}}};
    const json sparse = plan(server.url(), "#max_frames=8", no_follow_ups);
    CHECK(sparse["media"]["frames"].size() == 8);
    const double sparse_share = server.share_sent();
    INFO("8 frames: " << sparse_share * 100 << "% of the file sent");
    CHECK(sparse_share > 0);
    // What the 8 frames need is about 10%: 8 of the 60 intervals, each read up to its frame by the index's pass and
    // kept for the decoding. Each seek also leaves what was in flight on the connection it closes, which grows when
    // the machine is busy; reading it all would be 100%.
    CHECK(sparse_share < 0.3);
    // Without the cache of what was read (video_url.cache_mb 0, or past its cap) the decoding reads each interval
    // again: about twice as much (17-25%, 30.5% once beside a full CI run).
    const json uncached = plan(server.url(), "#max_frames=8", json{{"video_url", {{"cache_mb", 0}}}, {"conversation", {{"cache_mb", 0}}}});
    CHECK(uncached["media"]["frames"] == sparse["media"]["frames"]);
    const double uncached_share = server.share_sent();
    INFO("8 frames, nothing cached: " << uncached_share * 100 << "% of the file sent");
    CHECK(sparse_share < 0.75 * uncached_share);
    // A frame in every keyframe interval: the whole file is needed. It is downloaded once, into a copy that the scan
    // and the decoding both read, not scanned over the network and then read again.
    const json dense = plan(server.url(), "#fps=30#max_frames=64", no_follow_ups);
    CHECK(dense["media"]["frames"].size() == 64);
    const double dense_share = server.share_sent();
    INFO("64 frames: " << dense_share * 100 << "% of the file sent");
    CHECK(dense_share >= 1.0);
    CHECK(dense_share < 1.1);
}

// Whether a plan's download copy in `dir` holds some of the file within a minute: what is observed, polled.
bool download_copy_started(const fs::path& dir)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
        for (const auto& file : files_in(dir))
            if (fs::file_size(file) > 0)
                return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20)); // polling what is observed, not a delay
    }
}

// Sends `signal` to a jarvis-host at work: it must end as interrupted (130), leaving nothing in its temporary folder.
void interrupt_and_check_clean_up(ChildProcess& host, int signal, const fs::path& temp)
{
    host.signal(signal);
    const auto code = host.wait_for(std::chrono::seconds(60));
    INFO(host.err());
    REQUIRE(code);
    CHECK(*code == 130);
    CHECK(files_in(temp).empty());
}

// 20 s of noise (nothing to compress: 21 MB) with a keyframe every second, as MP4 with its index at the end and first.
std::pair<fs::path, fs::path> noise_20s_mp4s()
{
    const std::vector<std::string> noise = {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "20", "-vf", "noise=alls=60:allf=t",
                                            "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-bf", "2", "-pix_fmt", "yuv420p"};
    std::vector<std::string> faststart = noise;
    faststart.insert(faststart.end(), {"-movflags", "+faststart"});
    return {make_video("noise_20s_index_at_end.mp4", noise), make_video("noise_20s_index_first.mp4", faststart)};
}

TEST_CASE("a server without range requests sends the video once, whether its MP4 index is at the end or the start", "[frame_slicer][http][ranges]")
{
    const auto [index_at_end, index_first] = noise_20s_mp4s();
    TempDir temp;
    // Also with no cache of what was read (video_url.cache_mb 0): the copy is not that cache, and is made all the same.
    TempDir settings;
    const fs::path no_range_cache = settings.path() / "no_range_cache.json";
    std::ofstream(no_range_cache) << json{{"video_url", {{"cache_mb", 0}}}}.dump();
    const std::vector<std::pair<fs::path, std::vector<std::string>>> runs = {
        {index_at_end, {}}, {index_first, {}}, {index_at_end, {"--config", no_range_cache.string()}}};
    for (const auto& [video, config] : runs) {
        // 8 frames spread over the video need most of it; 64 all of it. Either way the only request is the one
        // that opens it: before, an index at the end was read whole to open the file and again to decode.
        for (const std::string options : {"#max_frames=8", "#fps=30#max_frames=64"}) {
            INFO(video.filename().string() << options << (config.empty() ? "" : ", cache_mb 0"));
            CountingFileServer server(video, 0, CountingFileServer::Ranges::ignored);
            std::vector<std::string> args = {host_binary().string(), "--endpoint", "http://127.0.0.1:9/v1", "--loadout", "vllm://m" + options};
            args.insert(args.end(), config.begin(), config.end());
            args.insert(args.end(), {"plan", "--video", server.url(), "--prompt", "What happens?", "--json"});
            const auto r = run_process(args, std::chrono::seconds(120), {"TMPDIR=" + temp.path().string()});
            INFO(r.err);
            REQUIRE(r.exit_code == 0);
            const json doc = json::parse(r.out);
            CHECK(doc["media"]["frames"].size() == (options == "#max_frames=8" ? 8u : 64u));
            CHECK(server.requests() == 1);
            const double share = server.share_sent();
            INFO(share * 100 << "% of the file sent");
            CHECK(share < 1.1);
            // The copy it was read into is gone with the plan.
            CHECK(files_in(temp.path()).empty());
        }
    }
    // The server stalls with 60% sent: once the copy holds part of the file, SIGINT ends the plan and removes it.
    CountingFileServer server(index_first, 0.6, CountingFileServer::Ranges::ignored);
    ChildProcess host({host_binary().string(), "--endpoint", "http://127.0.0.1:9/v1", "--loadout", "vllm://m#fps=30#max_frames=64", "plan",
                       "--video", server.url(), "--prompt", "What happens?", "--json"},
                      {"TMPDIR=" + temp.path().string()});
    REQUIRE(download_copy_started(temp.path()));
    interrupt_and_check_clean_up(host, SIGINT, temp.path());
}

TEST_CASE("a copy from a server without range requests that cannot be written fails naming the copy and the reason", "[frame_slicer][http][ranges]")
{
    const auto [index_at_end, index_first] = noise_20s_mp4s();
    TempDir temp;
    // The index at the end fails while the file is opened (the copy is written on the way to it), the index first
    // while the rest is copied: either way the reason is the copy, not the server or damaged data.
    for (const fs::path& video : {index_at_end, index_first}) {
        INFO(video.filename().string());
        CountingFileServer server(video, 0, CountingFileServer::Ranges::ignored);
        // A file size limit of a few MB (of the 21 MB video) stands in for a disk that fills during the copy: a write
        // past it fails (EFBIG) rather than ending the process, as its signal is ignored.
        const auto r = run_process({"/bin/sh", "-c", "ulimit -f 8192 && trap '' XFSZ && exec \"$@\"", "sh", host_binary().string(), "--endpoint",
                                    "http://127.0.0.1:9/v1", "--loadout", "vllm://m#max_frames=8", "plan", "--video", server.url(),
                                    "--prompt", "What happens?", "--json"},
                                   std::chrono::seconds(120), {"TMPDIR=" + temp.path().string()});
        INFO(r.err);
        CHECK(r.exit_code == 3);
        CHECK_THAT(r.err, Contains(server.url()) && Contains("writing its temporary copy " + temp.path().string()) &&
                              Contains("File too large"));
        CHECK(files_in(temp.path()).empty());
    }
}

TEST_CASE("a server that cuts its body short or goes silent is named as the reason, with or without range requests", "[frame_slicer][http][ranges]")
{
    const auto [index_at_end, index_first] = noise_20s_mp4s();
    TempDir temp;
    TempDir settings;
    const fs::path config = settings.path() / "jarvis.json";
    std::ofstream(config) << json{{"video_url", {{"timeout_s", 2}}}}.dump();
    using Ranges = CountingFileServer::Ranges;
    // With the index at the end the demuxer, finding no index, would say "moov atom not found"; with it first, from a
    // server without ranges, the failure comes while the rest is copied. Either way the server is the reason, and how
    // far it got. (A server with ranges sends the index at the end on a request of its own: nothing past half, here.)
    const std::vector<std::pair<fs::path, Ranges>> servers = {
        {index_at_end, Ranges::ignored}, {index_first, Ranges::ignored}, {index_at_end, Ranges::taken}};
    for (const auto& [video, ranges] : servers) {
        for (const bool silent : {false, true}) {
            INFO(video.filename().string() << (ranges == Ranges::taken ? ", ranges" : ", no ranges")
                                           << (silent ? ", silent at half" : ", closed at half"));
            CountingFileServer server(video, 0, ranges);
            if (silent)
                server.stall_from(0.5);
            else
                server.close_from(0.5);
            const auto r = run_process({host_binary().string(), "--endpoint", "http://127.0.0.1:9/v1", "--config", config.string(), "--loadout",
                                        "vllm://m#max_frames=8", "plan", "--video", server.url(), "--prompt", "What happens?", "--json"},
                                       std::chrono::seconds(120), {"TMPDIR=" + temp.path().string()});
            INFO(r.err);
            CHECK(r.exit_code == 3);
            CHECK_THAT(r.err, Contains(server.url()));
            if (ranges == Ranges::ignored) {
                CHECK_THAT(r.err, Contains(" of 21.0 MB") &&
                                      (Contains("its server stopped sending after 10.") || Contains("its server ended the body after 10.")));
                CHECK(server.requests() == 1);
            } else {
                // Where the index is, past the half that was sent.
                std::smatch where;
                REQUIRE(std::regex_search(r.err, where, std::regex(R"(its server sent nothing from byte (\d+) of its (\d+) on)")));
                CHECK(std::stoull(where[2].str()) == fs::file_size(video));
                CHECK(std::stoull(where[1].str()) >= fs::file_size(video) / 2);
            }
            // (With ranges FFmpeg's reader reconnects once after the timeout, and says only EIO when that fails too: the
            // time the read took tells.) A connection closed is not a timeout.
            if (silent)
                CHECK_THAT(r.err, Contains("timed out"));
            else
                CHECK_THAT(r.err, !Contains("timed out"));
            CHECK(files_in(temp.path()).empty());
        }
    }
}

TEST_CASE("a URL's downloaded copy is removed after the plan and after SIGINT or SIGTERM during the download", "[frame_slicer][http][cancel]")
{
    const auto video = make_video("noise_gop30_60s.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "60", "-vf",
                                                          "noise=alls=60:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-g", "30",
                                                          "-bf", "2", "-pix_fmt", "yuv420p"});
    TempDir temp;
    const std::vector<std::string> env = {"TMPDIR=" + temp.path().string()};
    {
        CountingFileServer server(video);
        const auto r = run_process({host_binary().string(), "--endpoint", "http://127.0.0.1:9/v1", "--loadout", "vllm://m#fps=30#max_frames=64",
                                    "plan", "--video", server.url(), "--prompt", "What happens?", "--json"},
                                   std::chrono::seconds(120), env);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(json::parse(r.out)["media"]["frames"].size() == 64);
        CHECK(files_in(temp.path()).empty());
    }
    // SIGTERM: a service stopping Jarvis, or a timeout command.
    for (const int signal : {SIGINT, SIGTERM}) {
        INFO("signal " << signal);
        // The server stalls with 60% sent: once the copy holds part of the file, the signal ends the plan and removes it.
        CountingFileServer server(video, 0.6);
        ChildProcess host({host_binary().string(), "--endpoint", "http://127.0.0.1:9/v1", "--loadout", "vllm://m#fps=30#max_frames=64",
                           "plan", "--video", server.url(), "--prompt", "What happens?", "--json"},
                          env);
        REQUIRE(download_copy_started(temp.path()));
        interrupt_and_check_clean_up(host, signal, temp.path());
    }
}

TEST_CASE("an HLS playlist's copy is removed on SIGINT while a segment's server is silent", "[frame_slicer][http][hls][cancel]")
{
    TempDir site;
    make_hls_site(site.path());
    silence_third_segment(site.path());
    FolderServer server(site.path(), {"silent.ts"});
    TempDir temp;
    ChildProcess host({host_binary().string(), "--plugin-dir", build_plugin_dir().string(), "--loadout", "vllm://m", "plan", "--video",
                       server.url("clip.m3u8"), "--prompt", "What happens?", "--json"},
                      {"TMPDIR=" + temp.path().string()});
    // The copy holds the first two segments and waits for the third (the I/O timeout is 30 s).
    REQUIRE(server.requested("silent.ts", std::chrono::seconds(60)));
    CHECK(files_in(temp.path()).size() == 1);
    interrupt_and_check_clean_up(host, SIGINT, temp.path());
}

TEST_CASE("a copy left by a jarvis-host killed during the download is removed by the next download", "[frame_slicer][http][cancel]")
{
    const auto video = make_video("noise_gop30_60s.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "60", "-vf",
                                                          "noise=alls=60:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-g", "30",
                                                          "-bf", "2", "-pix_fmt", "yuv420p"});
    TempDir temp;
    const std::vector<std::string> env = {"TMPDIR=" + temp.path().string()};
    const std::vector<std::string> plan_args = {host_binary().string(), "--endpoint", "http://127.0.0.1:9/v1", "--loadout",
                                                "vllm://m#fps=30#max_frames=64", "plan", "--prompt", "What happens?", "--json", "--video"};
    {
        // SIGKILL (the OOM killer, Task Manager, a closed console window on Windows): no clean-up runs.
        CountingFileServer server(video, 0.6);
        std::vector<std::string> args = plan_args;
        args.push_back(server.url());
        ChildProcess host(args, env);
        REQUIRE(download_copy_started(temp.path()));
        host.signal(SIGKILL);
        REQUIRE(host.wait_for(std::chrono::seconds(60)));
    }
    const auto left = files_in(temp.path());
    REQUIRE(left.size() == 1);
    // Past the minute a writer of another process-id namespace (a container sharing the folder) is given.
    fs::last_write_time(left[0], fs::file_time_type::clock::now() - std::chrono::minutes(2));

    CountingFileServer server(video);
    std::vector<std::string> args = plan_args;
    args.push_back(server.url());
    const auto r = run_process(args, std::chrono::seconds(120), env);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out)["media"]["frames"].size() == 64);
    CHECK(files_in(temp.path()).empty());
}

TEST_CASE("start and end clip the sampled range", "[frame_slicer][clip]")
{
    const auto video = make_marked_video("marked_h264_bframes.mp4", 320, 192, 24, 4, {"-c:v", "libx264", "-bf", "3", "-g", "48", "-pix_fmt", "yuv420p"});
    const json doc = plan(video, "#start=1#end=3#fps=4");
    const auto frames = sent_frames(doc);
    REQUIRE(frames.size() == 8);
    for (const auto& f : frames) {
        CHECK(f.claimed_s >= 1 - 1e-9);
        CHECK(f.claimed_s < 3);
    }
    check_frames_are_true(frames, true_frame_times(video));
    CHECK_THROWS_WITH(plan(video, "#start=9"), Contains("start=9 is at or after the end of the video"));
}

TEST_CASE("keyframe seeking sends only keyframes, with their true times", "[frame_slicer][keyframe]")
{
    const auto video = make_marked_video("marked_gop12.mp4", 320, 192, 24, 4, {"-c:v", "libx264", "-g", "12", "-keyint_min", "12", "-sc_threshold", "0"});
    const auto keys = keyframe_flags(video);
    const json doc = plan(video, "#seek=keyframe");
    CHECK(doc["media"]["seek"] == "keyframe");
    const auto frames = sent_frames(doc);
    check_frames_are_true(frames, true_frame_times(video));
    for (const auto& f : frames)
        CHECK(keys.at(static_cast<size_t>(read_frame_mark(f.picture))));
}

TEST_CASE("keyframe seeking on a clip with one keyframe decodes its frames exactly, and says so", "[frame_slicer][keyframe]")
{
    // A screen recorder's GIF (no index: scanned) and an MP4 whose only keyframe is its first (its keyframes are found
    // by seeking, then it is scanned): seek=keyframe alone would send one still picture.
    const std::vector<fs::path> videos = {
        make_marked_video("marked_screen.gif", 320, 192, screen_gif_fps, 4, screen_gif_encoder),
        make_marked_video("marked_one_keyframe.mp4", 320, 192, 24, 4, {"-c:v", "libx264", "-g", "1000", "-sc_threshold", "0", "-bf", "2"})};
    for (const auto& video : videos) {
        INFO(video.filename().string());
        const auto keys = keyframe_flags(video);
        REQUIRE(std::count(keys.begin(), keys.end(), true) == 1);
        const json doc = plan(video, "#seek=keyframe");
        CHECK(doc["media"]["seek"] == "exact");
        CHECK_THAT(doc["warnings"].dump(), Contains("the clip has one keyframe, which seek=keyframe would send alone: its 8 frames"));
        const auto frames = sent_frames(doc);
        CHECK(frames.size() == 8);
        check_frames_are_true(frames, true_frame_times(video));
        // The same frames as asking for exact ones.
        std::vector<double> exact_times;
        for (const auto& f : sent_frames(plan(video)))
            exact_times.push_back(f.claimed_s);
        REQUIRE(exact_times.size() == frames.size());
        for (size_t k = 0; k < frames.size(); ++k)
            CHECK(frames[k].claimed_s == Approx(exact_times[k]));
    }
}

TEST_CASE("a truncated file gives what decodes, with true times and a warning", "[frame_slicer][damaged]")
{
    // The header (moov first) promises 6 s; the data stops halfway.
    const auto whole = make_marked_video("marked_faststart.mp4", 320, 192, 24, 6, {"-c:v", "libx264", "-movflags", "+faststart"});
    TempDir dir;
    const fs::path cut = dir.path() / "truncated.mp4";
    const std::string bytes = read_file(whole);
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    const json doc = plan(cut);
    const auto frames = sent_frames(doc);
    check_frames_are_true(frames, true_frame_times(whole));
    CHECK(frames.back().claimed_s < 4.0);
    bool warned = false;
    for (const auto& w : doc["warnings"])
        warned = warned || w.get<std::string>().find("truncated") != std::string::npos ||
                 w.get<std::string>().find("could not be decoded") != std::string::npos;
    CHECK(warned);
}

TEST_CASE("a recording cut short inside its first frame is a video error, not the user's start", "[frame_slicer][damaged]")
{
    // A fragmented MP4 (how OBS and phones write while recording) cut inside its first fragment's data: one packet,
    // partial, of no length. The index's end is its start; no start was asked for, so nothing the user said is wrong.
    const auto whole = make_marked_video("marked_fragmented.mp4", 320, 192, 24, 2, {"-c:v", "libx264", "-movflags", "frag_keyframe+empty_moov"});
    const std::string bytes = read_file(whole);
    const size_t data = bytes.find("mdat");
    REQUIRE(data != std::string::npos);
    TempDir dir;
    const fs::path cut = dir.path() / "cut_in_first_frame.mp4";
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, data + 200);
    try {
        plan(cut);
        FAIL("expected the video to be refused");
    } catch (const jarvis::vision::Error& e) {
        CHECK(e.code() == JV_E_MEDIA);
        CHECK_THAT(e.what(), Contains(cut.string()) && Contains("could be decoded"));
    }
}

namespace {

// The first image a plan sends, as JPEG bytes.
std::string first_image(const json& doc)
{
    const std::string url = doc.at("request").at("messages").at(0).at("content").at(2).at("image_url").at("url");
    const std::string b64 = url.substr(url.find(',') + 1);
    std::string jpeg(b64.size(), '\0');
    const int n = av_base64_decode(reinterpret_cast<uint8_t*>(jpeg.data()), b64.c_str(), static_cast<int>(jpeg.size()));
    REQUIRE(n > 0);
    jpeg.resize(static_cast<size_t>(n));
    return jpeg;
}

// How far apart two pictures of one size are, on average, in one plane (0-255).
double mean_difference(const GrayImage& a, const GrayImage& b)
{
    REQUIRE(a.width == b.width);
    REQUIRE(a.height == b.height);
    double sum = 0;
    for (size_t i = 0; i < a.pixels.size(); ++i)
        sum += std::abs(int(a.pixels[i]) - int(b.pixels[i]));
    return sum / double(a.pixels.size());
}

} // namespace

TEST_CASE("HDR video (PQ, HLG) is tone mapped to what its SDR original shows", "[frame_slicer][hdr]")
{
    // zimg (FFmpeg's zscale) turns an SDR clip into HDR the way BT.2408 places SDR: its white at 203 nits. Read back,
    // the frames must look like the original's, not flat and dim. HLG is checked on a grey clip: zimg applies HLG's
    // OOTF to each channel where BT.2100 applies it to luminance, which differ only in saturated colours.
    const std::vector<std::string> lossless_sdr = {"-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p", "-color_primaries", "bt709",
                                                   "-color_trc", "bt709", "-colorspace", "bt709"};
    const auto sdr_from = [&](const std::string& name, const std::string& filters) {
        std::vector<std::string> args = {"-f", "lavfi", "-i", "testsrc2=size=640x384:rate=10:duration=1" + filters};
        args.insert(args.end(), lossless_sdr.begin(), lossless_sdr.end());
        return make_video(name, args);
    };
    const auto hdr_from = [](const fs::path& sdr, const std::string& name, const std::string& transfer) {
        return make_video(name, {"-i", sdr.string(), "-vf",
                                 "zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t=" + transfer + ":m=bt2020nc:p=bt2020:r=tv:npl=203,format=yuv420p10le",
                                 "-c:v", "libx265", "-x265-params", "log-level=error:lossless=1", "-color_primaries", "bt2020",
                                 "-color_trc", transfer, "-colorspace", "bt2020nc"});
    };
    const auto colour = sdr_from("hdr_source_colour.mp4", "");
    const auto grey = sdr_from("hdr_source_grey.mp4", ",hue=s=0");
    struct Case
    {
        fs::path sdr, hdr;
    };
    for (const Case& c : {Case{colour, hdr_from(colour, "hdr_pq.mp4", "smpte2084")}, Case{grey, hdr_from(grey, "hdr_hlg.mp4", "arib-std-b67")}}) {
        const json original = plan(c.sdr, "#fps=2");
        const json mapped = plan(c.hdr, "#fps=2");
        const std::string want = first_image(original);
        const std::string got = first_image(mapped);
        for (int plane = 0; plane < 3; ++plane) {
            const double difference = mean_difference(decode_plane(got, plane), decode_plane(want, plane));
            INFO(c.hdr.filename().string() << " plane " << plane << ": " << difference);
            // Mapped: 3-8 (zimg puts HLG's white a little lower than BT.2408). Not mapped: PQ 29, 55 and 64, HLG's grey 19.
            CHECK(difference < 11);
        }
        CHECK(mapped["warnings"].empty());
    }
}

TEST_CASE("the token budget shrinks frames, then takes fewer, then refuses clearly", "[frame_slicer][budget]")
{
    const auto video = make_marked_video("marked_budget.mp4", 1280, 720, 10, 10, {"-c:v", "libx264", "-preset", "ultrafast"});
    const json roomy = plan(video);
    CHECK(roomy["media"]["frames"].size() == 20);
    // 720p is over the 768-token per-frame maximum: qwen-vl-utils' smart_resize gives 1152x640.
    CHECK(roomy["media"]["frames"][0]["width"] == 1152);
    CHECK(roomy["media"]["frames"][0]["height"] == 640);
    const int full_tokens = roomy["estimate"]["prompt_tokens"].get<int>();

    const json tight = plan(video, "#ctx=8192#max_tokens=512");
    CHECK(tight["estimate"]["prompt_tokens"].get<int>() + 512 <= 8192);
    CHECK(tight["estimate"]["prompt_tokens"].get<int>() < full_tokens);
    CHECK_FALSE(tight["warnings"].empty());

    const json tighter = plan(video, "#ctx=1024#max_tokens=256");
    CHECK(tighter["estimate"]["prompt_tokens"].get<int>() + 256 <= 1024);
    CHECK(tighter["media"]["frames"].size() < 20);
    CHECK(tighter["media"]["frames"].size() >= 2);

    try {
        plan(video, "#ctx=300#max_tokens=256");
        FAIL("expected a refusal");
    } catch (const jarvis::vision::Error& e) {
        CHECK(e.code() == JV_E_INVALID_ARGUMENT);
        CHECK_THAT(e.what(), Contains("does not fit") && Contains("ctx=300"));
    }
}

TEST_CASE("max_pixels caps the frame size and jpeg quality is configurable", "[frame_slicer][size]")
{
    const auto video = make_marked_video("marked_budget.mp4", 1280, 720, 10, 10, {"-c:v", "libx264", "-preset", "ultrafast"});
    const json small = plan(video, "#max_pixels=200000#fps=0.5");
    for (const auto& f : small["media"]["frames"])
        CHECK(f["width"].get<int>() * f["height"].get<int>() <= 200000);
    // Quality shows on detailed pictures (a flat two-tone pattern compresses alike at any quality).
    const json best = plan(sample_video(), "#fps=0.5", {{"frames", {{"jpeg_quality", 2}}}});
    const json worst = plan(sample_video(), "#fps=0.5", {{"frames", {{"jpeg_quality", 31}}}});
    CHECK(best["media"]["frames"][0]["bytes"].get<int>() > 2 * worst["media"]["frames"][0]["bytes"].get<int>());
}

TEST_CASE("progress is reported and cancellation stops decoding", "[frame_slicer][cancel]")
{
    const auto video = make_marked_video("marked_progress.mp4", 320, 192, 100, 10, {"-c:v", "libx264", "-preset", "ultrafast"});
    auto provider = slicer();
    const std::string request = json{{"video", video.string()}, {"prompt", "x"}, {"loadout", "vllm://m#fps=4"}}.dump();
    std::vector<std::string> stages;
    std::vector<double> index_read; // fractions of the file the index scan has read
    jarvis::vision::CallHandlers handlers;
    handlers.on_progress = [&](std::string_view stage, double f) {
        stages.emplace_back(stage);
        if (stage == "index" && f >= 0)
            index_read.push_back(f);
    };
    provider.plan(request, handlers);
    CHECK(std::find(stages.begin(), stages.end(), "decode") != stages.end());
    // 1000 frames: the scan reports how far it has read, rising, within [0, 1].
    REQUIRE(index_read.size() >= 3);
    CHECK(std::is_sorted(index_read.begin(), index_read.end()));
    CHECK(index_read.front() < 0.5);
    CHECK(index_read.back() > 0.5);
    CHECK(index_read.back() <= 1.0);

    // Other frames than the first plan's (those are cached now, and a repeat decodes nothing).
    const std::string other_frames = json{{"video", video.string()}, {"prompt", "x"}, {"loadout", "vllm://m#fps=3"}}.dump();
    bool decoding = false;
    handlers.on_progress = [&](std::string_view stage, double) { decoding = decoding || stage == "decode"; };
    handlers.is_cancelled = [&] { return decoding; };
    try {
        provider.plan(other_frames, handlers);
        FAIL("expected cancellation");
    } catch (const jarvis::vision::Error& e) {
        CHECK(e.code() == JV_E_CANCELLED);
    }
}

TEST_CASE("a HEIC photo is read where this FFmpeg reads HEIF and refused by name where not, and a grid is never sent as one tile", "[frame_slicer][errors]")
{
    TempDir dir;
    const auto heic = [&](const std::string& name, const std::string& size, const std::string& colour) {
        const auto png = make_video(name + ".png", {"-f", "lavfi", "-i", "color=c=" + colour + ":size=" + size, "-frames:v", "1"});
        const auto out = dir.path() / (name + ".heic");
        REQUIRE(run_process({"/usr/bin/heif-enc", "-q", "50", png.string(), "-o", out.string()}).exit_code == 0);
        return out;
    };
    // An iPhone's photo is a grid of tiles; this one is one picture (heif-enc stores a size that is not a multiple of
    // 64 as a cropped grid of one tile).
    const auto single = heic("photo", "128x96", "red");
    const auto grid = dir.path() / "grid.heic";
    make_heif_grid(grid, {heic("tile0", "64x64", "red"), heic("tile1", "64x64", "green"), heic("tile2", "64x64", "blue"),
                          heic("tile3", "64x64", "white")},
                   64, 64);
    const auto refused = [](const ProcessResult& r, const fs::path& video, const std::string& reason) {
        CHECK(r.exit_code == 3);
        CHECK_THAT(r.err, Contains(video.string()) && Contains(reason));
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    };
    // FFmpeg reads HEIF since 7.0 (libavformat 61), a grid as a group of streams, one per tile.
    if (LIBAVFORMAT_VERSION_MAJOR < 61) {
        // FFmpeg 5.1 calls both "moov atom not found".
        for (const auto& photo : {single, grid})
            refused(host_plan(photo.string()), photo, "it is a HEIC picture (HEIF, as phones save photos), which this FFmpeg cannot read");
    } else {
        const auto read = host_plan(single.string());
        REQUIRE(read.exit_code == 0);
        const auto media = nlohmann::json::parse(read.out)["media"];
        CHECK(media["width"] == 128);
        CHECK(media["height"] == 96);
        CHECK(media["frames"].size() == 1);
        refused(host_plan(grid.string()), grid, "it is a picture stored as a grid of tiles (HEIF or AVIF, as phones save photos)");
    }
}

TEST_CASE("bad input exits 3 with one line naming the file and the reason", "[frame_slicer][errors]")
{
    TempDir dir;
    const auto empty = dir.path() / "empty.mp4";
    std::ofstream(empty).close();
    const auto text = dir.path() / "notes.mp4";
    std::ofstream(text) << "not a video\n";
    const auto audio = make_video("audio_only.m4a", {"-f", "lavfi", "-i", "sine=frequency=440", "-t", "1", "-c:a", "aac"});
    const auto animated_webp = make_video("animated.webp", {"-f", "lavfi", "-i", "testsrc2=size=64x48:rate=5", "-t", "1", "-c:v", "libwebp", "-loop", "0"});
    // H.264 stored under a codec tag no decoder knows.
    const auto unknown_codec = make_video("unknown_codec.mov", {"-i", sample_video().string(), "-t", "1", "-c:v", "copy", "-tag:v", "ABCD", "-strict", "-2"});
    // Unreadable: root reads anything, so the host runs without the capabilities that let it.
    const auto locked = dir.path() / "locked.mp4";
    fs::copy_file(sample_video(), locked);
    fs::permissions(locked, fs::perms::none);

    httplib::Server media;
    media.Get("/loop", [&](const httplib::Request&, httplib::Response& res) { res.set_redirect("/loop", 302); });
    const int port = media.bind_to_any_port("127.0.0.1");
    std::thread serving([&] { media.listen_after_bind(); });
    const std::string missing_url = "http://127.0.0.1:" + std::to_string(port) + "/gone.mp4";
    const std::string redirect_loop = "http://127.0.0.1:" + std::to_string(port) + "/loop";

    const std::vector<std::pair<std::string, std::string>> cases = {
        {(dir.path() / "missing.mp4").string(), "no such file"},
        {dir.path().string(), "is a directory"},
        {empty.string(), "the file is empty"},
        {text.string(), "not a video file"},
        {audio.string(), "no video stream"},
        {animated_webp.string(), "it is an animated WebP, which this FFmpeg cannot decode"},
        {unknown_codec.string(), "its video codec with tag 'ABCD' is not supported"},
        {locked.string(), "cannot read it: Permission denied"},
        {missing_url, "404"},
        {redirect_loop, "redirected it more than 8 times"},
    };
    std::vector<std::string> host = {host_binary().string()};
    if (::geteuid() == 0)
        host.insert(host.begin(), {"/usr/bin/setpriv", "--bounding-set=-dac_override,-dac_read_search"});
    for (const auto& [video, reason] : cases) {
        INFO(video);
        std::vector<std::string> argv = host;
        argv.insert(argv.end(), {"plan", "--video", video, "--prompt", "x"});
        const auto r = run_process(argv);
        CHECK(r.exit_code == 3);
        CHECK_THAT(r.err, Contains(video) && Contains(reason));
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
    media.stop();
    serving.join();
}

TEST_CASE("a scan cancelled half way leaves no short index behind", "[frame_slicer][cancel]")
{
    // Intra-only 1080p test pattern: every packet (about 65 KB) is larger than FFmpeg's 32 KB read buffer, so every
    // read asks the interrupt check.
    const auto video = make_video("cancel_scan_intra.mp4", {"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-t", "3", "-c:v",
                                                            "libx264", "-preset", "ultrafast", "-g", "1", "-pix_fmt", "yuv420p"});
    auto provider = slicer();
    // Every frame is asked for, so that the index is a scan (a few frames of it would be found by seeking instead).
    const std::string request = json{{"video", video.string()}, {"prompt", "What happens?"}, {"loadout", "vllm://m#fps=30"}}.dump();
    // Once the scan is under way, the loop's own check still says "go on" and the next read is interrupted: the
    // read fails half way, which must not pass for the end of a truncated file.
    int checks_since_scanning = -1;
    jarvis::vision::CallHandlers handlers;
    handlers.on_progress = [&](std::string_view stage, double f) {
        if (stage == "index" && f > 0 && checks_since_scanning < 0)
            checks_since_scanning = 0;
    };
    handlers.is_cancelled = [&] { return checks_since_scanning >= 0 && ++checks_since_scanning >= 2; };
    try {
        provider.plan(request, handlers);
        FAIL("expected cancellation");
    } catch (const jarvis::vision::Error& e) {
        CHECK(e.code() == JV_E_CANCELLED);
    }
    const json doc = json::parse(provider.plan(request));
    // The same provider (and its index cache) asked again plans what a provider that never saw the cancelled scan
    // plans: the whole video, no word of damage.
    const json fresh = json::parse(slicer().plan(request));
    CHECK(doc["media"]["frames"] == fresh["media"]["frames"]);
    CHECK(doc["warnings"] == fresh["warnings"]);
    for (const auto& w : doc["warnings"])
        CHECK_THAT(w.get<std::string>(), !Contains("truncated") && !Contains("damaged") && !Contains("stopped"));
    CHECK(doc["media"]["frames"].back()["pts_s"].get<double>() == Approx(89.0 / 30));
}

TEST_CASE("a file damaged inside says that FFmpeg concealed damage, and still gives every frame at its time", "[frame_slicer][damaged]")
{
    const auto whole = make_video("damaged_inside.mp4", {"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "4", "-c:v", "libx264",
                                                         "-preset", "veryfast", "-g", "30", "-movflags", "+faststart", "-pix_fmt", "yuv420p"});
    std::string bytes = read_file(whole);
    // Every 4 KB past the header (the moov is first), a few bytes flipped: slices that no longer decode cleanly.
    for (size_t at = bytes.size() / 10; at + 8 < bytes.size(); at += 4096)
        for (size_t k = 0; k < 8; ++k)
            bytes[at + k] = static_cast<char>(bytes[at + k] ^ 0xa5);
    TempDir dir;
    const fs::path damaged = dir.path() / "damaged.mp4";
    std::ofstream(damaged, std::ios::binary) << bytes;
    const json doc = plan(damaged);
    const json& frames = doc["media"]["frames"];
    REQUIRE(frames.size() == 8);
    for (size_t k = 0; k < frames.size(); ++k)
        CHECK(frames[k]["pts_s"].get<double>() == Approx(0.5 * double(k)).margin(1.0 / 30));
    bool concealed = false;
    for (const auto& w : doc["warnings"])
        concealed = concealed || w.get<std::string>().find("had damage that FFmpeg concealed") != std::string::npos;
    CHECK(concealed);
}

namespace {

std::vector<std::string> ask_args(const std::string& base_url, const std::string& loadout, const fs::path& video,
                                  std::vector<std::string> config = {}, const std::string& prompt = "What happens?")
{
    std::vector<std::string> args = {host_binary().string(), "--endpoint", base_url, "--loadout", loadout};
    args.insert(args.end(), config.begin(), config.end());
    args.insert(args.end(), {"ask", "--video", video.string(), "--prompt", prompt, "--json"});
    return args;
}

// The images a request body (whole or not) holds.
size_t images_in(const std::string& body)
{
    size_t images = 0;
    for (size_t at = body.find("data:image/jpeg"); at != std::string::npos; at = body.find("data:image/jpeg", at + 1))
        ++images;
    return images;
}

json run_ask(const std::vector<std::string>& args)
{
    const auto r = run_process(args, std::chrono::seconds(120));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out);
}

} // namespace

TEST_CASE("images: the request goes out while its frames are decoded, arrives whole and in order, and is the plan's", "[frame_slicer][streamed]")
{
    RecordingServer server;
    const auto video = make_marked_video("marked_streamed.mp4", 320, 192, 24, 6, {"-c:v", "libx264", "-bf", "3", "-g", "48", "-pix_fmt", "yuv420p"});
    const json result = run_ask(ask_args(server.base_url(), "vllm://m#fps=2", video));
    CHECK(result["answer"] == "ok");
    CHECK(result["conversation_media"]["client_cache"] == "miss");
    const auto requests = server.wait_for_requests(1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].whole);
    CHECK(requests[0].transfer_encoding == "chunked");
    const json sent = json::parse(requests[0].body);
    // Every frame is the one its time claims, in time order, and the body is exactly what `plan` shows for the
    // question (in this test's process, where nothing is cached: the frames decoded before the body is made).
    const auto frames = sent_frames({{"request", sent}, {"media", result["media"]}});
    CHECK(frames.size() == 12);
    check_frames_are_true(frames, true_frame_times(video));
    const json planned = plan(video, "#fps=2", {{"endpoint", {{"base_url", server.base_url()}}}});
    CHECK(sent == planned["request"]);
    CHECK(result["media"] == planned["media"]);
    CHECK(result["estimate"] == planned["estimate"]);
    CHECK(result["timings"]["media_s"].get<double>() <= result["timings"]["total_s"].get<double>());
}

TEST_CASE("images: a question that spells out the body's placeholder is sent as asked, streamed and whole", "[frame_slicer][streamed]")
{
    // The frames' place in the body is marked while the rest is serialised; a question may hold any text, that mark's
    // included, and must not be taken for it.
    const std::string question = "@@jarvis-frames@@";
    const auto video = make_marked_video("marked_streamed.mp4", 320, 192, 24, 6, {"-c:v", "libx264", "-bf", "3", "-g", "48", "-pix_fmt", "yuv420p"});
    TempDir dir;
    const fs::path whole = dir.path() / "whole.json";
    std::ofstream(whole) << json{{"frames", {{"send_while_decoding", false}}}}.dump();
    for (const std::vector<std::string>& config : {std::vector<std::string>{}, std::vector<std::string>{"--config", whole.string()}}) {
        INFO((config.empty() ? "sent while decoding" : "sent whole"));
        RecordingServer server;
        const json result = run_ask(ask_args(server.base_url(), "vllm://m#fps=2", video, config, question));
        const auto requests = server.wait_for_requests(1);
        REQUIRE(requests.size() == 1);
        const json content = json::parse(requests[0].body).at("messages").at(0).at("content");
        CHECK(content.at(0) == json{{"type", "text"}, {"text", question}});
        CHECK(content.size() == 1 + 2 * result["media"]["frames"].size());
        CHECK(images_in(requests[0].body) == 12);
    }
}

TEST_CASE("images: a server that wants a length gets the body whole, and so does one configured so", "[frame_slicer][streamed]")
{
    const auto video = make_marked_video("marked_streamed_411.mp4", 320, 192, 24, 3, {"-c:v", "libx264", "-pix_fmt", "yuv420p"});
    SECTION("411 Length Required: sent again whole")
    {
        RecordingServer server;
        server.reply_with({411});
        CHECK(run_ask(ask_args(server.base_url(), "vllm://m#fps=2", video))["answer"] == "ok");
        const auto requests = server.wait_for_requests(2);
        REQUIRE(requests.size() == 2);
        CHECK(requests[0].transfer_encoding == "chunked");
        CHECK(requests[1].transfer_encoding.empty());
        CHECK(requests[1].whole);
        CHECK(json::parse(requests[0].body) == json::parse(requests[1].body)); // the same request, only framed otherwise
    }
    SECTION("frames.send_while_decoding false")
    {
        RecordingServer server;
        TempDir dir;
        const fs::path config = dir.path() / "jarvis.json";
        std::ofstream(config) << json{{"frames", {{"send_while_decoding", false}}}}.dump();
        const json result = run_ask(ask_args(server.base_url(), "vllm://m#fps=2", video, {"--config", config.string()}));
        const auto requests = server.wait_for_requests(1);
        REQUIRE(requests.size() == 1);
        CHECK(requests[0].transfer_encoding.empty());
        CHECK(json::parse(requests[0].body)["messages"][0]["content"].size() == 1 + 2 * result["media"]["frames"].size());
    }
}

TEST_CASE("images: a request cancelled while its frames are decoded is aborted, never taken for whole", "[frame_slicer][streamed][cancel]")
{
    RecordingServer server;
    ChildProcess host(ask_args(server.base_url(), "vllm://m#fps=2", slow_to_decode_video()));
    const std::string start = R"({"max_tokens")";
    const InterruptedRequest interrupted = interrupt_once_body_began(server, host, start.size());
    CHECK(interrupted.exit_code == std::optional<int>(130));
    REQUIRE(interrupted.request);
    CHECK_FALSE(interrupted.request->whole);
    CHECK(interrupted.request->body.rfind(start, 0) == 0);
    CHECK(images_in(interrupted.request->body) < 40); // decoding had not ended
}

TEST_CASE("images: a server that stops sending the video mid-decoding aborts the request with an error naming it", "[frame_slicer][streamed][http]")
{
    RecordingServer chat;
    // 8 frames of a minute of noise read by ranges, each from its own interval; its index at the front, so that decoding
    // reads nothing near the end of the file before the last frame.
    const auto video = make_video("noise_gop30_60s_faststart.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "60", "-vf",
                                                                    "noise=alls=60:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-g",
                                                                    "30", "-bf", "2", "-pix_fmt", "yuv420p", "-movflags", "+faststart"});
    CountingFileServer server(video);
    TempDir dir;
    const fs::path config = dir.path() / "jarvis.json";
    // The video's timeout, not the model's server's (which stays at its 300 s). Without the cache of what the index's
    // pass read (as past its cap, on a longer video), the decoding reads the intervals from the server again.
    std::ofstream(config) << json{{"video_url", {{"timeout_s", 2}, {"cache_mb", 0}}}}.dump();
    ChildProcess host(ask_args(chat.base_url(), "vllm://m#max_frames=8", fs::path(server.url()), {"--config", config.string()}));
    // The request begins once the frames are chosen (the index's reads are done) and before the first is decoded: from
    // then on the server sends nothing of the file's last fifth, where the last frame (52.5 s) is.
    REQUIRE(chat.wait_for_body(std::string(R"({"max_tokens")").size()));
    server.stall_from(0.8);
    // A read gives up after the 2 s timeout and one reconnection: seconds, not FFmpeg's default back-off of up to two
    // minutes per read (this took 92 s before).
    const auto code = host.wait_for(std::chrono::seconds(60));
    INFO(host.err());
    REQUIRE(code);
    CHECK(*code == 3);
    // Whether the demuxer reports the stall as a failed read or as damage where it stopped, the message says so.
    CHECK_THAT(host.err(), Contains(server.url()) && Contains("its server stopped sending"));
    const auto requests = chat.wait_for_requests(1);
    REQUIRE(requests.size() == 1);
    CHECK_FALSE(requests[0].whole);
    const size_t images = images_in(requests[0].body);
    CHECK(images >= 1); // the frames before the stall went out
    CHECK(images < 8);
}

TEST_CASE("a GPU asked for by name that cannot decode the video gives the same frames, and the result says why", "[frame_slicer][hardware]")
{
    const auto video = make_marked_video("marked_h264_gpu.mp4", 320, 192, 24, 4, {"-c:v", "libx264", "-bf", "2"});
    const json software = plan(video);
    const auto frames = sent_frames(software);
    check_frames_are_true(frames, true_frame_times(video));
    const auto warnings_about_gpu = [](const json& doc) {
        std::vector<std::string> told;
        for (const auto& w : doc["warnings"])
            if (w.get<std::string>().find("frames.hardware_decode") != std::string::npos)
                told.push_back(w.get<std::string>());
        return told;
    };
    CHECK(warnings_about_gpu(software).empty());

    // Mesa's Vulkan device on the CPU opens; FFmpeg 5.1's H.264 decoder has no way onto it.
    const json vulkan = plan(video, "", {{"frames", {{"hardware_decode", "vulkan"}}}});
    // A device that is not there.
    const json missing = plan(video, "", {{"frames", {{"hardware_decode", "vaapi:/nonexistent/renderD999"}}}});
    for (const json* doc : {&vulkan, &missing}) {
        const auto gpu_frames = sent_frames(*doc);
        REQUIRE(gpu_frames.size() == frames.size());
        for (size_t i = 0; i < frames.size(); ++i) {
            CHECK(gpu_frames[i].claimed_s == frames[i].claimed_s);
            CHECK(gpu_frames[i].picture.pixels == frames[i].picture.pixels);
        }
    }
    const auto vulkan_told = warnings_about_gpu(vulkan);
    REQUIRE(vulkan_told.size() == 1);
    CHECK_THAT(vulkan_told[0], Catch::Contains("vulkan did not decode") && Catch::Contains("h264 is not a codec or profile it takes"));
    const auto missing_told = warnings_about_gpu(missing);
    REQUIRE(missing_told.size() == 1);
    CHECK_THAT(missing_told[0], Catch::Contains("\"vaapi:/nonexistent/renderD999\", but no GPU decoder could be opened"));
}
