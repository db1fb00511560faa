// native_video's deliveries end to end: jarvis-host asking the vlm-emulator, which fetches and decodes what it is
// given. The shared volume is shown to the emulator the way Docker shows it to vLLM: in a mount namespace of its
// own, at a container path that does not exist outside it.
#include "child_process.hpp"
#include "fixtures.hpp"
#include "folder_server.hpp"
#include "frame_marks.hpp"
#include "http/media_server.hpp"
#include "media_server_bodies.hpp"
#include "platform/owned_files.hpp"
#include "process.hpp"
#include "recording_server.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <regex>
#include <sys/wait.h>
#include <unistd.h>
#include <thread>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using jarvis::test::Emulator;
using nlohmann::json;
using namespace jarvis::test;

namespace {

const std::string loadout = "vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#nativevideo";

fs::path write_config(const TempDir& dir, const json& config)
{
    const fs::path path = dir.path() / "jarvis.json";
    std::ofstream(path) << config.dump();
    return path;
}

std::vector<std::string> host_args(const fs::path& config, const std::string& command, const fs::path& video, std::vector<std::string> extra = {})
{
    std::vector<std::string> args = {host_binary().string(), "--config", config.string(), command, "--video", video.string(), "--prompt",
                                     "What happens?", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

json run_json(const std::vector<std::string>& args, int expected_exit = 0)
{
    const auto r = run_process(args, std::chrono::seconds(120));
    INFO(r.err);
    REQUIRE(r.exit_code == expected_exit);
    return json::parse(r.out);
}

json described(const json& result) { return json::parse(result.at("answer").get<std::string>()); }

size_t staged_files(const fs::path& volume)
{
    std::error_code ec;
    size_t n = 0;
    for (const auto& entry : fs::directory_iterator(volume / ".jarvis-staging", ec))
        n += entry.is_regular_file() ? 1 : 0;
    return n;
}

json volume_config(const Emulator& emulator, const fs::path& volume)
{
    return {{"endpoint", {{"base_url", emulator.base_url()}}},
            {"loadout", loadout},
            {"input_data", {{"host_path", volume.string()}, {"container_path", "/mnt/input_data"}}}};
}

} // namespace

TEST_CASE("file: a video inside the volume reaches the server as file:/// under the container path", "[deliveries][file]")
{
    TempDir volume;
    fs::create_directories(volume.path() / "clips");
    const fs::path video = volume.path() / "clips" / "my clip.mp4";
    fs::copy_file(sample_video(), video);
    Emulator emulator({"--allowed-local-media-path", "/mnt/input_data"}, {volume.path()});
    TempDir dir;
    const fs::path config = write_config(dir, volume_config(emulator, volume.path()));

    const json plan = run_json(host_args(config, "plan", video));
    CHECK(plan["media"]["delivery"] == "file");
    CHECK(plan["request"]["messages"][0]["content"][0]["video_url"]["url"] == "file:///mnt/input_data/clips/my%20clip.mp4");

    const json result = run_json(host_args(config, "ask", video));
    CHECK(result["media"]["delivery"] == "file");
    CHECK(result["fallback"].is_null());
    CHECK(described(result)["videos"][0]["sha256"] == sha256_hex_of_file(video));
    CHECK(staged_files(volume.path()) == 0);
}

TEST_CASE("file: a video outside the volume is staged for the request and removed after it", "[deliveries][file][staging]")
{
    TempDir volume;
    Emulator emulator({"--allowed-local-media-path", "/mnt/input_data"}, {volume.path()});
    TempDir dir;
    const fs::path config = write_config(dir, volume_config(emulator, volume.path()));

    // Beside the volume, on its filesystem (linked), and on tmpfs, another filesystem (copied).
    const TempDir other_filesystem("/dev/shm");
    const fs::path on_other_filesystem = other_filesystem.path() / "clip.mp4";
    fs::copy_file(sample_video(), on_other_filesystem);
    for (const auto& [video, staged_as] : {std::pair{sample_video(), "linked into it"}, std::pair{on_other_filesystem, "copied into it"}}) {
        INFO(video);
        const json plan = run_json(host_args(config, "plan", video));
        CHECK(plan["media"]["staged"] == true);
        CHECK_THAT(plan["request"]["messages"][0]["content"][0]["video_url"]["url"].get<std::string>(),
                   Contains("file:///mnt/input_data/.jarvis-staging/jarvis-"));
        CHECK_THAT(plan["warnings"].dump(), Contains(staged_as));
        CHECK(staged_files(volume.path()) == 0); // plan has no side effects

        const json result = run_json(host_args(config, "ask", video));
        CHECK(result["media"]["delivery"] == "file");
        CHECK(result["media"]["staged"] == true);
        CHECK(described(result)["videos"][0]["sha256"] == sha256_hex_of_file(video));
        CHECK(staged_files(volume.path()) == 0);
    }
}

TEST_CASE("file: a server without --allowed-local-media-path is answered through frames, once", "[deliveries][fallback]")
{
    TempDir volume;
    Emulator emulator({}, {volume.path()});
    TempDir dir;
    const fs::path config = write_config(dir, volume_config(emulator, volume.path()));
    const json result = run_json(host_args(config, "ask", sample_video()));
    CHECK(result["fallback"]["from"] == "file");
    CHECK(result["fallback"]["to"] == "frames");
    CHECK_THAT(result["fallback"]["reason"].get<std::string>(), Contains("Cannot load local files without `--allowed-local-media-path`."));
    CHECK(result["media"]["delivery"] == "frames");
    CHECK(described(result)["videos"][0]["frames"] == result["media"]["frames"].size());
    CHECK(staged_files(volume.path()) == 0);
}

TEST_CASE("a refusal quoting bytes that are not UTF-8 still gives the fallback's answer, the bytes replaced", "[deliveries][fallback][errors]")
{
    // A proxy's error page in another encoding, quoted as the fallback's reason: the answer came, and a reason JSON
    // cannot carry as it is must not lose it.
    jarvis::test::RecordingServer server;
    server.reply_first_with(400, "Failed to decode video: caf\xe9 \xff");
    TempDir dir;
    const fs::path config = write_config(dir, {{"endpoint", {{"base_url", server.base_url()}}}, {"loadout", loadout + "#delivery=data"}});
    const json result = run_json(host_args(config, "ask", sample_video()));
    CHECK(result["answer"] == "ok");
    CHECK(result["fallback"]["from"] == "data");
    CHECK(result["fallback"]["to"] == "frames");
    CHECK(result["fallback"]["reason"].get<std::string>().find("Failed to decode video: caf\xef\xbf\xbd \xef\xbf\xbd") != std::string::npos);
    CHECK(server.wait_for_requests(2).size() == 2);
}

TEST_CASE("a one-frame video reaches the server as two frames, chosen by auto and after a refusal of data", "[deliveries][fallback]")
{
    // A still picture saved as a clip: vLLM's loader would take its one frame, and Qwen3-VL refuses a video of fewer
    // than two ("t:1 must be larger than temporal_factor:2").
    TempDir volume;
    const fs::path still = volume.path() / "still.mp4";
    fs::copy_file(make_video("one_frame.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10", "-frames:v", "1", "-c:v", "libx264",
                                               "-pix_fmt", "yuv420p"}),
                  still);
    Emulator emulator({}, {volume.path()});
    TempDir dir;
    const json volume_settings = volume_config(emulator, volume.path());
    const json automatic = run_json(host_args(write_config(dir, volume_settings), "ask", still));
    CHECK(automatic["media"]["delivery"] == "frames");
    CHECK_THAT(automatic["media"]["delivery_reason"].get<std::string>(), Contains("Qwen3-VL needs two or more"));
    CHECK(automatic["fallback"].is_null());
    CHECK(described(automatic)["videos"][0]["frames"] == 2);

    json forced_settings = volume_settings;
    forced_settings["loadout"] = loadout + "#delivery=data";
    const json forced = run_json(host_args(write_config(dir, forced_settings), "ask", still));
    CHECK(forced["fallback"]["from"] == "data");
    CHECK(forced["fallback"]["to"] == "frames");
    CHECK_THAT(forced["fallback"]["reason"].get<std::string>(), Contains("t:1 must be larger than temporal_factor:2"));
    CHECK(described(forced)["videos"][0]["frames"] == 2);
}

TEST_CASE("an unfinished recording and an MP4 or Matroska cut short, local or a URL, reach the model as the frames that decode",
          "[deliveries][fallback][damaged]")
{
    TempDir volume;
    // No duration, no cues: a recorder that crashed, a browser's MediaRecorder WebM. OpenCV's count is negative.
    const fs::path unfinished = volume.path() / "unfinished.mkv";
    fs::copy_file(make_video("live_3s.mkv", {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "3", "-c:v", "libx264", "-live", "1"}),
                  unfinished);
    // An index for 10 s, the data for about 5.7.
    const fs::path whole = make_video("index_first_10s.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "10", "-c:v",
                                                              "libx264", "-g", "60", "-movflags", "+faststart"});
    const fs::path cut = volume.path() / "cut.mp4";
    fs::copy_file(whole, cut);
    fs::resize_file(cut, fs::file_size(whole) * 57 / 100);
    // The same as Matroska, whose cues (at its end) go with the cut.
    const fs::path whole_mkv = make_video("cues_10s.mkv", {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "10", "-c:v",
                                                           "libx264", "-g", "60"});
    const fs::path cut_mkv = volume.path() / "cut.mkv";
    fs::copy_file(whole_mkv, cut_mkv);
    fs::resize_file(cut_mkv, fs::file_size(whole_mkv) * 57 / 100);
    Emulator emulator({"--allowed-local-media-path", "/mnt/input_data"}, {volume.path()});
    TempDir dir;
    const json settings = volume_config(emulator, volume.path());
    json forced_settings = settings;
    forced_settings["loadout"] = loadout + "#delivery=file";
    const fs::path automatic_config = write_config(dir, settings);
    const fs::path forced_config = dir.path() / "forced.json";
    std::ofstream(forced_config) << forced_settings.dump();

    const json unfinished_auto = run_json(host_args(automatic_config, "ask", unfinished));
    CHECK(unfinished_auto["media"]["delivery"] == "frames");
    CHECK_THAT(unfinished_auto["media"]["delivery_reason"].get<std::string>(), Contains("no frame count"));
    CHECK(described(unfinished_auto)["videos"][0]["frames"] == 6); // 3 s at 2 fps
    // Sent as a file anyway, the server refuses it as vLLM does, and the frames go instead.
    const json unfinished_forced = run_json(host_args(forced_config, "ask", unfinished));
    CHECK(unfinished_forced["fallback"]["from"] == "file");
    CHECK_THAT(unfinished_forced["fallback"]["reason"].get<std::string>(), Contains("must be non-negative"));
    CHECK(described(unfinished_forced)["videos"][0]["frames"] == 6);

    for (const fs::path& cut_short : {cut, cut_mkv}) {
        INFO(cut_short.filename());
        const json cut_auto = run_json(host_args(automatic_config, "ask", cut_short));
        CHECK(cut_auto["media"]["delivery"] == "frames");
        CHECK_THAT(cut_auto["media"]["delivery_reason"].get<std::string>(), Contains("cut short?"));
        const json sent = described(cut_auto)["videos"][0];
        CHECK(sent["frames"] == 11); // 5.7 s at 2 fps, spread over what is there
        CHECK(sent["timestamps"].back().get<double>() >= 5.0); // the last pair: the frame at 5.0 s twice
        // As a file, the server samples 20 frames over 10 s and gets the 11 before the cut: the plan says so beforehand.
        const json cut_forced = run_json(host_args(forced_config, "ask", cut_short));
        CHECK(cut_forced["media"]["delivery"] == "file");
        CHECK_THAT(cut_forced["warnings"].dump(), Contains("fewer frames than estimated"));
        CHECK(described(cut_forced)["videos"][0]["frames"] == 11);
        CHECK(described(cut_forced)["videos"][0]["timestamps"].back() == 5.2);
        // Served over HTTP (an upload or a sync still under way), the URL would go to the server as it is: the same
        // check, from the bytes the URL's cache already holds, sends the frames instead.
        jarvis::MediaServer server("127.0.0.1", "127.0.0.1", cut_short, cut_short.extension() == ".mkv" ? "video/x-matroska" : "video/mp4");
        const json cut_url = run_json(host_args(automatic_config, "ask", server.url()));
        CHECK(cut_url["media"]["delivery"] == "frames");
        CHECK_THAT(cut_url["media"]["delivery_reason"].get<std::string>(), Contains("cut short?"));
        CHECK(described(cut_url)["videos"][0]["frames"] == 11);
    }
}

TEST_CASE("an HLS playlist URL goes as frames: the server's loader would take the playlist's text for the video", "[deliveries][hls]")
{
    TempDir site;
    REQUIRE(run_process({"/usr/bin/ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "6", "-c:v", "libx264",
                         "-g", "30", "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod", (site.path() / "clip.m3u8").string()})
                .exit_code == 0);
    FolderServer server(site.path());
    Emulator emulator;
    TempDir dir;
    const json result = run_json(host_args(write_config(dir, {{"endpoint", {{"base_url", emulator.base_url()}}}, {"loadout", loadout}}), "ask",
                                           server.url("clip.m3u8")));
    CHECK(result["media"]["delivery"] == "frames");
    CHECK_THAT(result["media"]["delivery_reason"].get<std::string>(), Contains("HLS playlist"));
    CHECK(result["fallback"].is_null()); // chosen beforehand, not after the server's refusal
    const json sent = described(result)["videos"][0];
    CHECK(sent["frames"] == 12); // 6 s at 2 fps, over every segment
    CHECK(sent["timestamps"].back().get<double>() >= 5.0);
}

// One video at two sizes (v0 640x384, v1 320x192), 18 s at 24 fps in 2-second segments, in `folder`: master.m3u8,
// v0.m3u8, v1.m3u8 and the segments v0_0.ts .. v1_8.ts.
void make_two_size_site(const fs::path& folder)
{
    REQUIRE(run_process({"/usr/bin/ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x384:rate=24", "-t", "18",
                         "-filter_complex", "[0:v]split=2[a][b];[b]scale=320:192[small]", "-map", "[a]", "-map", "[small]", "-c:v",
                         "libx264", "-preset", "ultrafast", "-g", "48", "-b:v:0", "800k", "-b:v:1", "200k", "-f", "hls", "-hls_time", "2",
                         "-hls_playlist_type", "vod", "-master_pl_name", "master.m3u8", "-var_stream_map", "v:0 v:1",
                         "-hls_segment_filename", (folder / "v%v_%d.ts").string(), (folder / "v%v.m3u8").string()})
                .exit_code == 0);
}

TEST_CASE("frames of an HLS master playlist are made from the smallest variant that covers the video's pixel budget", "[deliveries][hls]")
{
    TempDir site;
    make_two_size_site(site.path());
    FolderServer server(site.path());
    TempDir dir;
    // Each frame alone could be sent at 640x384; 432 frames of one video share vLLM's video pixel budget, which makes
    // them 288x160: the 320x192 variant has every pixel they keep.
    const json doc = run_json(host_args(write_config(dir, {{"loadout", loadout + "#delivery=frames#fps=24"}}), "plan", server.url("master.m3u8")));
    CHECK(doc["media"]["width"] == 320);
    const json& frames = doc["media"]["frames"];
    REQUIRE(frames.size() == 432);
    CHECK(frames[0]["width"] == 288);
    CHECK(frames[0]["height"] == 160);
    size_t large_sent = 0;
    size_t large_size = 0;
    for (int i = 0; i < 9; ++i) {
        const std::string small = "v1_" + std::to_string(i) + ".ts";
        CHECK(server.bytes_sent(small) == fs::file_size(site.path() / small));
        const std::string large = "v0_" + std::to_string(i) + ".ts";
        large_sent += server.bytes_sent(large);
        large_size += fs::file_size(site.path() / large);
    }
    // The master gives each variant's size: the large one is never fetched, not even to find its streams.
    INFO(large_sent << " of v0's " << large_size << " bytes sent");
    CHECK(large_sent == 0);
}

TEST_CASE("a playlist answered through images after a refusal of video is read at the images' size", "[deliveries][hls][fallback]")
{
    TempDir site;
    // The site of the test above: 432 frames of one video would be 288x160 (the 320x192 variant); as images, each
    // with its own budget, 640x384. (Reusing the playlist the frames' copy had read to its end, the fallback failed:
    // "it has no streams".)
    make_two_size_site(site.path());
    FolderServer server(site.path());
    Emulator no_video({"--limit-mm-per-prompt", R"({"video": 0})"});
    TempDir dir;
    const json config = {{"endpoint", {{"base_url", no_video.base_url()}}}, {"loadout", loadout + "#fps=24"}};
    const json result = run_json(host_args(write_config(dir, config), "ask", server.url("master.m3u8")));
    REQUIRE(result["fallback"]["to"] == "images");
    CHECK(result["media"]["width"] == 640);
    const json& frames = result["media"]["frames"];
    REQUIRE(frames.size() == 432);
    CHECK(frames[0]["width"] == 640);
    CHECK(frames[0]["height"] == 384);
}

TEST_CASE("a video whose frame rate varies goes as frames, so that the model is told the true times", "[deliveries][vfr]")
{
    // 60 frames in the first 2 s, then one every 4/30 s: 90 frames in 5.7 s, 15.8 a second on average. vLLM times
    // each sampled frame by its position at that average, so frame 60 (at 2 s) would be told as 3.8 s.
    TempDir volume;
    const fs::path video = volume.path() / "screen.mp4";
    fs::copy_file(make_video("vfr_6s.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "6", "-vf",
                                            "setpts='if(lt(N,60),N/30,2+(N-60)*4/30)/TB'", "-fps_mode", "vfr", "-c:v", "libx264", "-bf", "2"}),
                  video);
    Emulator emulator({"--allowed-local-media-path", "/mnt/input_data"}, {volume.path()});
    TempDir dir;
    json settings = volume_config(emulator, volume.path());
    const json automatic = run_json(host_args(write_config(dir, settings), "ask", video));
    CHECK(automatic["media"]["delivery"] == "frames");
    CHECK_THAT(automatic["media"]["delivery_reason"].get<std::string>(), Contains("frame rate varies") && Contains("s off their true times"));
    const json& frames = automatic["media"]["frames"];
    REQUIRE(frames.size() >= 10);
    CHECK(frames.back()["pts_s"].get<double>() > 4.5); // 2 fps over the 5.7 s the frames span

    settings["loadout"] = loadout + "#delivery=file";
    const json forced = run_json(host_args(write_config(dir, settings), "ask", video));
    CHECK(forced["media"]["delivery"] == "file");
    CHECK_THAT(forced["warnings"].dump(), Contains("frame rate varies"));
    // The server samples 11 of the 90 frames (90 / 15.8 x 2); its second pair, frames 18 and 27 (shown at 0.60 and
    // 0.90 s), is told as (18 + 27) / 2 / 15.8 = 1.4 s.
    const json served = described(forced)["videos"][0];
    CHECK(served["frames"] == 11);
    CHECK(served["timestamps"][1] == 1.4);
}
TEST_CASE("an HDR video goes as frames, so that the model sees it tone mapped", "[deliveries][hdr]")
{
    // HLG, what phones record: vLLM's loader would hand the model its 10-bit picture converted without tone mapping.
    TempDir volume;
    const fs::path video = volume.path() / "phone.mp4";
    fs::copy_file(make_video("hlg_2s.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "2", "-c:v", "libx265", "-x265-params",
                                            "log-level=error", "-pix_fmt", "yuv420p10le", "-color_primaries", "bt2020", "-color_trc",
                                            "arib-std-b67", "-colorspace", "bt2020nc"}),
                  video);
    Emulator emulator({"--allowed-local-media-path", "/mnt/input_data"}, {volume.path()});
    TempDir dir;
    json settings = volume_config(emulator, volume.path());
    const json automatic = run_json(host_args(write_config(dir, settings), "ask", video));
    CHECK(automatic["media"]["delivery"] == "frames");
    CHECK_THAT(automatic["media"]["delivery_reason"].get<std::string>(), Contains("HDR") && Contains("tone mapped"));
    CHECK(described(automatic)["videos"][0]["frames"] == 4);

    settings["loadout"] = loadout + "#delivery=file";
    const json forced = run_json(host_args(write_config(dir, settings), "ask", video));
    CHECK(forced["media"]["delivery"] == "file");
    CHECK_THAT(forced["warnings"].dump(), Contains("HDR") && Contains("without tone mapping"));
}

TEST_CASE("a video whose first track is a picture goes as frames: the server's loader would read that track", "[deliveries][streams]")
{
    // A Matroska file with a one-picture PNG track ahead of the video (muxed so by FFmpeg when the cover goes first).
    // OpenCV, vLLM's default decoder, reads a file's first video stream; TorchCodec reads FFmpeg's pick, the video.
    TempDir volume;
    const fs::path cover = volume.path() / "cover.png";
    REQUIRE(run_process({"/usr/bin/ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=red:size=200x200", "-frames:v", "1",
                         cover.string()}).exit_code == 0);
    const fs::path video = volume.path() / "cover first.mkv";
    REQUIRE(run_process({"/usr/bin/ffmpeg", "-v", "error", "-i", cover.string(), "-i", sample_video().string(), "-map", "0",
                         "-map", "1:v", "-c:v:0", "png", "-c:v:1", "copy", video.string()}).exit_code == 0);
    TempDir dir;
    {
        Emulator emulator({"--allowed-local-media-path", "/mnt/input_data"}, {volume.path()});
        json settings = volume_config(emulator, volume.path());
        const json automatic = run_json(host_args(write_config(dir, settings), "ask", video));
        CHECK(automatic["media"]["delivery"] == "frames");
        CHECK_THAT(automatic["media"]["delivery_reason"].get<std::string>(),
                   Contains("would read its first video stream (stream 0: png 200x200), not the video (640x360)"));
        const json served = described(automatic)["videos"][0];
        CHECK(served["width"] == 640);
        CHECK(served["frames"].get<int>() >= 8);

        // Sent as the file, the server reads the picture: one frame, which Qwen3-VL refuses; the answer then comes
        // through frames.
        settings["loadout"] = loadout + "#delivery=file";
        const json forced = run_json(host_args(write_config(dir, settings), "plan", video));
        CHECK(forced["media"]["delivery"] == "file");
        CHECK_THAT(forced["warnings"].dump(), Contains("first video stream (stream 0: png 200x200)"));
        const json answered = run_json(host_args(write_config(dir, settings), "ask", video));
        CHECK(answered["fallback"]["from"] == "file");
        CHECK_THAT(answered["fallback"]["reason"].get<std::string>(), Contains("t:1 must be larger than temporal_factor:2"));
        CHECK(described(answered)["videos"][0]["width"] == 640);
    }
    {
        Emulator emulator({"--allowed-local-media-path", "/mnt/input_data", "--media-io-kwargs", R"({"video": {"backend": "torchcodec"}})"},
                          {volume.path()});
        json settings = volume_config(emulator, volume.path());
        settings["vllm"] = {{"video_decoder", "torchcodec"}};
        const json result = run_json(host_args(write_config(dir, settings), "ask", video));
        CHECK(result["media"]["delivery"] == "file");
        const json served = described(result)["videos"][0];
        CHECK(served["width"] == 640);
        CHECK(served["frames"].get<int>() >= 8);
    }
}

TEST_CASE("staged files are removed after a refusal and after SIGINT", "[deliveries][staging][cancel]")
{
    TempDir volume;
    TempDir dir;
    {
        Emulator refusing({"--fault-status", "400", "--fault-body", R"({"error": {"message": "no", "type": "BadRequestError", "code": 400}})"});
        const auto r = run_process(host_args(write_config(dir, volume_config(refusing, volume.path())), "ask", sample_video()));
        CHECK(r.exit_code == 5);
        CHECK(staged_files(volume.path()) == 0);
    }
    {
        Emulator hanging({"--fault-hang"});
        ChildProcess host(host_args(write_config(dir, volume_config(hanging, volume.path())), "ask", sample_video()));
        for (int i = 0; i < 500 && staged_files(volume.path()) == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        REQUIRE(staged_files(volume.path()) == 1); // staged while the request waits
        REQUIRE(hanging.wait_for_log("chat request 1 received"));
        host.signal(SIGINT);
        REQUIRE(host.wait_for(std::chrono::seconds(30)) == std::optional<int>(130));
        CHECK(staged_files(volume.path()) == 0);
    }
}

TEST_CASE("a volume that is missing or read-only is a configuration error naming it", "[deliveries][errors]")
{
    Emulator emulator;
    TempDir dir;
    const fs::path missing = dir.path() / "no-volume";
    auto r = run_process(host_args(write_config(dir, volume_config(emulator, missing)), "ask", sample_video(), {"--loadout", loadout + "#delivery=file"}));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains(missing.string()) && Contains("does not exist"));

    // Read-only: jarvis-host runs where the volume is mounted read-only (root would write anywhere else).
    TempDir volume;
    const fs::path config = write_config(dir, volume_config(emulator, volume.path()));
    auto on_read_only_volume = [&](const std::vector<std::string>& args) {
        std::string script = "mount --bind '" + volume.path().string() + "' '" + volume.path().string() + "' && mount -o remount,ro,bind '" +
                             volume.path().string() + "' && exec";
        for (const auto& a : args)
            script += " '" + a + "'";
        return run_process({"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script});
    };
    // plan and ask agree: with delivery=file both refuse the volume, for the same reason.
    for (const char* command : {"plan", "ask"}) {
        INFO(command);
        r = on_read_only_volume(host_args(config, command, sample_video(), {"--loadout", loadout + "#delivery=file"}));
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains("is not writable"));
    }
    // With delivery=auto both choose frames instead, and say why; the answer comes.
    for (const char* command : {"plan", "ask"}) {
        INFO(command);
        r = on_read_only_volume(host_args(config, command, sample_video()));
        REQUIRE(r.exit_code == 0);
        const json doc = json::parse(r.out);
        CHECK(doc["media"]["delivery"] == "frames");
        CHECK_THAT(doc["media"]["delivery_reason"].get<std::string>(), Contains("cannot be staged") && Contains("is not writable"));
    }
}

TEST_CASE("http: the server fetches the very file from our media server, which is gone afterwards", "[deliveries][http]")
{
    Emulator emulator;
    TempDir dir;
    const fs::path config = write_config(dir, {{"endpoint", {{"base_url", emulator.base_url()}}},
                                               {"loadout", loadout},
                                               {"http_delivery", {{"advertise", "127.0.0.1"}}}});
    const json result = run_json(host_args(config, "ask", sample_video()));
    CHECK(result["media"]["delivery"] == "http");
    CHECK(described(result)["videos"][0]["sha256"] == sha256_hex_of_file(sample_video()));

    std::smatch fetched;
    const std::string log = emulator.process().err();
    REQUIRE(std::regex_search(log, fetched, std::regex(R"(fetched (http://127\.0\.0\.1:\d+/media/([0-9a-f]{32})/\S+) \(HTTP 200)")));
    CHECK_THROWS(http_get(fetched[1].str())); // nothing listens there any more
}

TEST_CASE("a media server destroyed right after it starts stops instead of hanging", "[deliveries][http][media_server]")
{
    // A request that fails fast destroys the server microseconds after its listening thread was started; httplib's
    // stop() used to come before the listening loop, which then waited in accept() for good.
    auto start_and_stop = std::async(std::launch::async, [] {
        for (int i = 0; i < 300; ++i)
            jarvis::MediaServer server("127.0.0.1", "127.0.0.1", sample_video(), "video/mp4");
    });
    const bool stopped = start_and_stop.wait_for(std::chrono::seconds(120)) == std::future_status::ready;
    if (!stopped) {
        std::fprintf(stderr, "300 media servers did not stop within 120 s: a destructor hangs\n");
        std::_Exit(1); // the hung thread cannot be joined
    }
    CHECK(stopped);
    start_and_stop.get();
}

TEST_CASE("the media server serves one file: GET, HEAD, Range, 404 elsewhere", "[deliveries][http][media_server]")
{
    const std::string bytes = read_file(sample_video());
    std::string url;
    {
        jarvis::MediaServer server("127.0.0.1", "127.0.0.1", sample_video(), "video/mp4");
        jarvis::MediaServer other("127.0.0.1", "127.0.0.1", sample_video(), "video/mp4");
        url = server.url();
        CHECK(server.url() != other.url());
        CHECK(std::regex_match(url, std::regex(R"(http://127\.0\.0\.1:\d+/media/[0-9a-f]{32}/sample_h264\.mp4)")));

        const auto whole = http_get(url);
        CHECK(whole.status == 200);
        CHECK(whole.body == bytes);

        const auto head = run_process({"/usr/bin/curl", "-sS", "-I", url});
        CHECK_THAT(head.out, Contains("Content-Length: " + std::to_string(bytes.size())) && Contains("Content-Type: video/mp4"));
        const auto range = run_process({"/usr/bin/curl", "-sS", "-r", "100-199", "-D", "-", url});
        CHECK_THAT(range.out, Contains("206") && Contains("Content-Range: bytes 100-199/" + std::to_string(bytes.size())));
        CHECK(range.out.substr(range.out.size() - 100) == bytes.substr(100, 100));

        // Ranges as RFC 9110 reads them (httplib alone sent "206, bytes N-(N-1)/N" for a suffix of 0 bytes: found by
        // fuzz_media_server): an end past the file stops at its last byte, a suffix is the last bytes, a start past
        // the end or an empty suffix is 416 with the size.
        const std::string size = std::to_string(bytes.size());
        const auto past_end = run_process({"/usr/bin/curl", "-sS", "-r", "100-99999999", "-D", "-", url});
        CHECK_THAT(past_end.out, Contains("206") && Contains("Content-Range: bytes 100-" + std::to_string(bytes.size() - 1) + "/" + size));
        CHECK(past_end.out.substr(past_end.out.size() - (bytes.size() - 100)) == bytes.substr(100));
        const auto suffix = run_process({"/usr/bin/curl", "-sS", "-r", "-50", "-D", "-", url});
        CHECK_THAT(suffix.out, Contains("Content-Range: bytes " + std::to_string(bytes.size() - 50) + "-" +
                                        std::to_string(bytes.size() - 1) + "/" + size));
        CHECK(suffix.out.substr(suffix.out.size() - 50) == bytes.substr(bytes.size() - 50));
        for (const char* unsatisfiable : {"-0", "99999999-"}) {
            const auto r = run_process({"/usr/bin/curl", "-sS", "-r", unsatisfiable, "-D", "-", url});
            CHECK_THAT(r.out, Contains("416") && Contains("Content-Range: bytes */" + size));
        }
        CHECK(jarvis::test::replay_fuzz_regressions("fuzz_media_server", jarvis::fuzz::media_server_request) > 0);

        const std::string base = url.substr(0, url.find("/media/"));
        CHECK(http_get(base + "/media/00000000000000000000000000000000/sample_h264.mp4").status == 404);
        CHECK(http_get(base + "/").status == 404);
        CHECK(server.requests_served() >= 3);
    }
    CHECK_THROWS(http_get(url));
}

TEST_CASE("frames: client frames reach vLLM with their true times, variable frame rate included", "[deliveries][frames]")
{
    const auto video = make_marked_video("marked_vfr.mkv", 320, 192, 30, 6, {"-c:v", "libx264", "-bf", "2", "-fps_mode", "vfr"},
                                         "setpts='if(lt(N,60),N/30,2+(N-60)*4/30)/TB'");
    Emulator emulator;
    TempDir dir;
    const fs::path config = write_config(dir, {{"endpoint", {{"base_url", emulator.base_url()}}}, {"loadout", loadout + "#delivery=frames#fps=1"}});
    const json result = run_json(host_args(config, "ask", video));
    CHECK(result["media"]["delivery"] == "frames");
    const json& frames = result["media"]["frames"];
    REQUIRE(frames.size() >= 17);
    const json video_seen = described(result)["videos"][0];
    CHECK(video_seen["frames"] == frames.size());
    // vLLM prints one time per pair of frames: their mean, to a tenth of a second.
    const json& stamps = video_seen["timestamps"];
    REQUIRE(stamps.size() == (frames.size() + 1) / 2);
    for (size_t k = 0; k < stamps.size(); ++k) {
        const double a = frames[2 * k]["pts_s"];
        const double b = frames[std::min(2 * k + 1, frames.size() - 1)]["pts_s"];
        char expected[32];
        std::snprintf(expected, sizeof expected, "%.1f", (a + b) / 2);
        CHECK(stamps[k].get<double>() == Approx(std::strtod(expected, nullptr)).margin(1e-9));
    }
    // And the times are the frames' own: the last one is well past what index/fps would say.
    CHECK(frames.back()["pts_s"].get<double>() > 15);
}

// The body of a frames request as a server received it, and the frames in its data URL.
struct FramesBody
{
    json doc;
    size_t frames_in_url = 0;
};

FramesBody parse_frames_body(const std::string& body)
{
    FramesBody b;
    b.doc = json::parse(body);
    const std::string url = b.doc["messages"][0]["content"][0]["video_url"]["url"];
    REQUIRE(url.rfind("data:video/jpeg;base64,", 0) == 0);
    b.frames_in_url = static_cast<size_t>(std::count(url.begin(), url.end(), ',')); // the prefix's comma and one between each two
    return b;
}

TEST_CASE("frames: the request goes out while its frames are decoded, and arrives whole and in order", "[deliveries][frames][streamed]")
{
    jarvis::test::RecordingServer server;
    TempDir dir;
    const fs::path config = write_config(dir, {{"endpoint", {{"base_url", server.base_url()}}}, {"loadout", loadout + "#delivery=frames#fps=4"}});
    const auto video = make_video("streamed_frames.mp4", {"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "6", "-c:v", "libx264",
                                                         "-bf", "2", "-g", "60", "-pix_fmt", "yuv420p"});
    const json result = run_json(host_args(config, "ask", video));
    CHECK(result["answer"] == "ok");
    const json& frames = result["media"]["frames"];
    REQUIRE(frames.size() == 24);
    const auto requests = server.wait_for_requests(1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].whole);
    CHECK(requests[0].transfer_encoding == "chunked");
    const FramesBody body = parse_frames_body(requests[0].body);
    CHECK(body.frames_in_url == frames.size());
    // Each frame's time, in the order the frames are in the URL: ascending and the frames' own.
    const json& indices = body.doc["media_io_kwargs"]["video"]["frames_indices"];
    REQUIRE(indices.size() == frames.size());
    for (size_t i = 0; i < frames.size(); ++i) {
        CHECK(indices[i].get<int64_t>() == std::llround(frames[i]["pts_s"].get<double>() * 1000));
        if (i > 0)
            CHECK(indices[i].get<int64_t>() > indices[i - 1].get<int64_t>());
    }
    CHECK(result["timings"]["media_s"].get<double>() <= result["timings"]["total_s"].get<double>());
}

TEST_CASE("frames: a server that wants a length gets the body whole, and so does one configured so", "[deliveries][frames][streamed]")
{
    TempDir dir;
    const auto video = sample_video();
    SECTION("411 Length Required: sent again whole")
    {
        jarvis::test::RecordingServer server;
        server.reply_with({411});
        const fs::path config = write_config(dir, {{"endpoint", {{"base_url", server.base_url()}}}, {"loadout", loadout + "#delivery=frames"}});
        const json result = run_json(host_args(config, "ask", video));
        CHECK(result["answer"] == "ok");
        const auto requests = server.wait_for_requests(2);
        REQUIRE(requests.size() == 2);
        CHECK(requests[0].transfer_encoding == "chunked");
        CHECK(requests[1].transfer_encoding.empty());
        CHECK(requests[1].whole);
        CHECK(parse_frames_body(requests[1].body).frames_in_url == result["media"]["frames"].size());
        CHECK(json::parse(requests[0].body) == json::parse(requests[1].body)); // the same request, only framed otherwise
    }
    SECTION("frames.send_while_decoding false")
    {
        jarvis::test::RecordingServer server;
        const fs::path config = write_config(dir, {{"endpoint", {{"base_url", server.base_url()}}},
                                                   {"loadout", loadout + "#delivery=frames"},
                                                   {"frames", {{"send_while_decoding", false}}}});
        const json result = run_json(host_args(config, "ask", video));
        const auto requests = server.wait_for_requests(1);
        REQUIRE(requests.size() == 1);
        CHECK(requests[0].transfer_encoding.empty());
        CHECK(parse_frames_body(requests[0].body).frames_in_url == result["media"]["frames"].size());
    }
}

TEST_CASE("frames: a request cancelled while its frames are decoded is aborted, never taken for whole", "[deliveries][frames][streamed][cancel]")
{
    jarvis::test::RecordingServer server;
    TempDir dir;
    const fs::path config = write_config(dir, {{"endpoint", {{"base_url", server.base_url()}}}, {"loadout", loadout + "#delivery=frames#fps=2"}});
    ChildProcess host(host_args(config, "ask", slow_to_decode_video()));
    const std::string start = R"({"max_tokens")";
    const InterruptedRequest interrupted = interrupt_once_body_began(server, host, start.size());
    CHECK(interrupted.exit_code == std::optional<int>(130));
    REQUIRE(interrupted.request);
    CHECK_FALSE(interrupted.request->whole);
    CHECK(interrupted.request->body.rfind(start, 0) == 0);
    CHECK(interrupted.request->body.find("data:video/jpeg;base64,") != std::string::npos);
}

TEST_CASE("data: a video over the inline limit is refused with a suggestion", "[deliveries][data][errors]")
{
    TempDir dir;
    const fs::path big = dir.path() / "big.mp4";
    fs::copy_file(make_video("faststart.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x192:rate=25", "-t", "2", "-c:v", "libx264", "-movflags", "+faststart"}), big);
    fs::resize_file(big, 70 * 1024 * 1024); // the header still opens; the file is now 70 MB
    Emulator emulator;
    const fs::path config = write_config(dir, {{"endpoint", {{"base_url", emulator.base_url()}}}, {"loadout", loadout + "#delivery=data"}});
    const auto r = run_process(host_args(config, "ask", big));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("above the 64 MB limit of delivery=data") && Contains("delivery=file"));
}

TEST_CASE("a server started with vllm-command's arguments for TorchCodec decodes from each sample's keyframe", "[deliveries][vllm]")
{
    TempDir dir;
    // 20 s with a keyframe every 2 s; at fps=0.2 the loader samples frames 0, 200, 399 and 599 of 600.
    const auto video = make_video("gop60_20s.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "20", "-c:v", "libx264",
                                                    "-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-pix_fmt", "yuv420p"});
    const auto decoded_by = [&](const json& vllm) {
        const auto launch = run_json({host_binary().string(), "--config", write_config(dir, {{"vllm", vllm}}).string(), "vllm-command",
                                      "--format", "args"});
        // Exactly what a user pastes after `vllm serve`, in vLLM's dot notation.
        Emulator emulator(launch.get<std::vector<std::string>>());
        const json config = {{"endpoint", {{"base_url", emulator.base_url()}}}, {"loadout", loadout}};
        run_json({host_binary().string(), "--config", write_config(dir, config).string(), "--loadout", loadout + "#delivery=data#fps=0.2",
                  "ask", "--video", video.string(), "--prompt", "x", "--json"});
        REQUIRE(emulator.wait_for_log("vlm-emulator: decoded "));
        const std::string log = emulator.process().err();
        const size_t at = log.find("vlm-emulator: decoded ");
        return log.substr(at, log.find('\n', at) - at);
    };
    CHECK(decoded_by(json::object()) == "vlm-emulator: decoded 600 of 600 frames (opencv)");
    // From the keyframes at 0, 180, 360 and 540: 1 + 21 + 40 + 60 frames.
    CHECK(decoded_by({{"video_decoder", "torchcodec"}}) == "vlm-emulator: decoded 122 of 600 frames (torchcodec)");
}

TEST_CASE("probe --video measures the server's decoding on the user's own video", "[deliveries][probe]")
{
    // H.264 with B-frames in Matroska (OBS's recordings): what the Windows build cannot encode, it copies.
    const auto video = make_video("probe_user_h264_10s.mkv", {"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "10", "-c:v",
                                                               "libx264", "-preset", "ultrafast", "-bf", "2", "-g", "60"});
    TempDir volume;
    TempDir dir;
    Emulator emulator({"--allowed-local-media-path", "/mnt/input_data"}, {volume.path()});
    const fs::path config = write_config(dir, volume_config(emulator, volume.path()));
    const json report = run_json({host_binary().string(), "--config", config.string(), "probe", "--video", video.string(), "--json"});
    const json& decoding = report.at("server_decoding");
    INFO(decoding.dump());
    CHECK(decoding["delivery"] == "file");
    CHECK(decoding["video"] == video.string());
    CHECK(decoding["codec"] == "h264");
    CHECK(decoding["frame_size"] == "640x360");
    // Its first second and its first ten (all of it), each sampled to 4 frames the loader decodes up to the last.
    const auto frames = decoding["frames_decoded"].get<std::vector<int64_t>>();
    REQUIRE(frames.size() == 2);
    CHECK(frames[0] >= 28);
    CHECK(frames[0] <= 34);
    CHECK(frames[1] >= 295);
    CHECK(frames[1] <= 300);
    REQUIRE(decoding["server_ms_per_megapixel"].is_number());
    CHECK(decoding["server_decode_ms_per_megapixel"].get<double>() > 0);
    // The server decoded the copies it was sent: the emulator read both from the volume.
    std::istringstream log(emulator.process().err());
    int copies_read = 0;
    for (std::string line; std::getline(log, line);)
        copies_read += line.rfind("vlm-emulator: read ", 0) == 0 && line.find("jarvis-probe-") != std::string::npos ? 1 : 0;
    CHECK(copies_read == 1 + 4 + 4); // file's check, both copies twice, the plain and padded transfer videos twice
    CHECK(fs::is_empty(volume.path()));
    // The video is on the volume's drive: the file delivery links it, so no copy is timed.
    CHECK(report.at("stage_copy")["copies"] == false);
    CHECK(report.at("stage_copy")["stage_copy_mb_per_s"].is_null());

    // A video too short to time, or none, fails before anything is sent (exit 3, naming it).
    const auto short_video = make_video("probe_user_h264_2s.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "2", "-c:v",
                                                                    "libx264", "-preset", "ultrafast"});
    // A recording that crashed: its header says 10 s, its data ends after about one.
    const fs::path cut = dir.path() / "crashed.mkv";
    {
        const std::string bytes = read_file(video);
        std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 8);
    }
    const auto cut_short = run_process({host_binary().string(), "--config", config.string(), "probe", "--video", cut.string()});
    CHECK(cut_short.exit_code == 3);
    CHECK_THAT(cut_short.err, Contains("crashed.mkv") && Contains("cut short?"));
    for (const fs::path& bad : {short_video, dir.path() / "missing.mp4"}) {
        const auto r = run_process({host_binary().string(), "--config", config.string(), "probe", "--video", bad.string()});
        INFO(r.err);
        CHECK(r.exit_code == 3);
        CHECK_THAT(r.err, Contains(bad.string()));
    }
    CHECK_THAT(run_process({host_binary().string(), "--config", config.string(), "probe", "--video", short_video.string()}).err,
               Contains("needs at least 5 s"));
    CHECK(fs::is_empty(volume.path()));
}

TEST_CASE("probe --video times the copy of a video on another drive into the volume, past the part it read", "[deliveries][probe]")
{
    TempDir volume;
    TempDir other_drive("/dev/shm");
    TempDir dir;
    // A phone's recording on another drive: 10 s of H.264, then 64 MiB that every reader skips (an MP4 free box).
    const fs::path video = other_drive.path() / "phone clip.mp4";
    fs::copy_file(make_video("probe_user_h264_10s.mp4", {"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "10", "-c:v", "libx264",
                                                         "-preset", "ultrafast"}),
                  video);
    const uint32_t padding = 64u << 20;
    {
        std::ofstream out(video, std::ios::binary | std::ios::app);
        const char header[8] = {char(padding >> 24), char(padding >> 16 & 0xff), char(padding >> 8 & 0xff), char(padding & 0xff), 'f', 'r', 'e', 'e'};
        out.write(header, sizeof header);
        const std::string zeros(padding - 8, '\0');
        out.write(zeros.data(), std::streamsize(zeros.size()));
    }
    Emulator emulator({"--allowed-local-media-path", "/mnt/input_data"}, {volume.path()});
    const fs::path config = write_config(dir, volume_config(emulator, volume.path()));
    const auto r = run_process({host_binary().string(), "--config", config.string(), "probe", "--video", video.string(), "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const json copy = json::parse(r.out).at("stage_copy");
    INFO(copy.dump());
    CHECK(copy["video"] == video.string());
    CHECK(copy["copies"] == true);
    // From past the 10 s the calibration read (and 16 MiB more) to the end: tens of MB, at a rate.
    const double copied_mb = copy["copied_mb"].get<double>();
    CHECK(copied_mb >= 32 * 1.048576);
    CHECK(copied_mb <= double(fs::file_size(video)) / 1e6 - 16 * 1.048576);
    CHECK(copy["seconds"].get<double>() > 0);
    CHECK(copy["stage_copy_mb_per_s"].get<double>() == Approx(copied_mb / copy["seconds"].get<double>()));
    CHECK_THAT(copy["advice"].get<std::string>(), Contains("set delivery_costs.stage_copy_mb_per_s to") && Contains("now the default 150"));
    CHECK(fs::is_empty(volume.path())); // the copy is gone with the probe's videos
}

TEST_CASE("probe measures our decoding on the GPU frames.hardware_decode names, and says when the GPU decoded nothing", "[deliveries][probe][hardware]")
{
    TempDir dir;
    Emulator emulator;
    const auto probe = [&](const std::string& hardware_decode, const std::vector<std::string>& more = {}) {
        const json config = {{"endpoint", {{"base_url", emulator.base_url()}}}, {"frames", {{"hardware_decode", hardware_decode}}}};
        std::vector<std::string> args = {host_binary().string(), "--config", write_config(dir, config).string(), "probe"};
        args.insert(args.end(), more.begin(), more.end());
        return run_process(args);
    };
    {
        // Mesa's Vulkan device on the CPU opens, but decodes nothing (FFmpeg 5.1 has no Vulkan decoding): every picture
        // of both test-pattern videos, by both decoders, came out of software, and no rate is suggested.
        const auto r = probe("vulkan", {"--json"});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        const json decoding = json::parse(r.out).at("client_decoding");
        INFO(decoding.dump());
        CHECK(decoding["device"] == "vulkan");
        CHECK(decoding["codec"] == "mpeg4");
        CHECK(decoding["decoders"] == 2);
        CHECK(decoding["pictures"] == json::array({120, 1200}));
        CHECK(decoding["pictures_on_gpu"] == json::array({0, 0}));
        CHECK(decoding["cpu_s"][1].get<double>() > 0);
        CHECK(decoding["gpu_s"][1].get<double>() > 0);
        CHECK(decoding["client_decode_ms_per_megapixel"].is_null());
        CHECK_THAT(decoding["advice"].get<std::string>(), Contains("vulkan decoded 0 of the 1200 pictures of the test pattern (mpeg4) "
                                                                    "on the GPU") &&
                                                             Contains("give probe --video a video of yours"));
    }
    {
        // A device that is not there: named, with FFmpeg's reason, in the JSON and in the text report.
        const auto r = probe("vaapi:/nonexistent/renderD999");
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        CHECK_THAT(r.out, Contains("client decoding: frames.hardware_decode is \"vaapi:/nonexistent/renderD999\", but no GPU decoder "
                                   "could be opened (vaapi:/nonexistent/renderD999: "));
    }
}

TEST_CASE("probe checks every delivery against the server and says what to change", "[deliveries][probe]")
{
    TempDir volume;
    TempDir dir;
    auto probe = [&](const Emulator& emulator, const json& vllm = json::object()) {
        json config = volume_config(emulator, volume.path());
        config["http_delivery"] = {{"advertise", "127.0.0.1"}};
        config["vllm"] = vllm;
        return run_json({host_binary().string(), "--config", write_config(dir, config).string(), "probe", "--json"});
    };
    auto by_delivery = [](const json& report) {
        std::map<std::string, json> out;
        for (const auto& d : report["deliveries"])
            out[d["delivery"].get<std::string>()] = d;
        return out;
    };
    {
        // The videos of a probe killed before its clean-up (one of them is padded to 64 MiB) go with the next probe.
        pid_t killed = ::fork();
        if (killed == 0)
            ::_exit(0);
        REQUIRE(killed > 0);
        REQUIRE(::waitpid(killed, nullptr, 0) == killed);
        std::string killed_probe = jarvis::owned_file_path(volume.path(), "jarvis-probe-", ".mp4").filename().string();
        killed_probe.replace(13, killed_probe.find("-m") - 13, "p" + std::to_string(killed));
        std::ofstream(volume.path() / killed_probe) << "a padded probe video";
        fs::last_write_time(volume.path() / killed_probe, fs::file_time_type::clock::now() - std::chrono::minutes(2));

        Emulator ready({"--allowed-local-media-path", "/mnt/input_data"}, {volume.path()});
        const json report = probe(ready);
        CHECK(report["model_served"] == true);
        CHECK(fs::is_empty(volume.path()));
        const auto d = by_delivery(report);
        REQUIRE(d.size() == 4);
        for (const auto& [name, entry] : d) {
            INFO(name << ": " << entry.dump());
            CHECK(entry["ok"] == true);
            CHECK(entry["prompt_tokens"].get<int>() > 100); // the proof the video arrived
        }
        // The server's decoding, measured through the first pointer delivery that works: 540 more frames of 720p
        // take it longer, and the suggestion is the reference rate scaled by the server's speed against ours.
        const json& decoding = report.at("server_decoding");
        INFO(decoding.dump());
        CHECK(decoding["delivery"] == "file");
        CHECK(decoding["frames_decoded"] == json::array({60, 600}));
        REQUIRE(decoding["server_ms_per_megapixel"].is_number());
        CHECK(decoding["server_ms_per_megapixel"].get<double>() > 0);
        CHECK(decoding["client_ms_per_megapixel"].get<double>() > 0);
        CHECK(decoding["server_decode_ms_per_megapixel"].get<double>() ==
              Approx(2.2 * decoding["server_ms_per_megapixel"].get<double>() / decoding["client_ms_per_megapixel"].get<double>()));
        CHECK_THAT(decoding["advice"].get<std::string>(), Contains("delivery_costs.server_decode_ms_per_megapixel"));
        CHECK_FALSE(report.contains("client_decoding")); // frames.hardware_decode is off: nothing of ours to measure

        // What the server pays per MB: the volume read through file, the upload through http (data is not needed when
        // http works), each from a video padded with 64 MiB that the server really received.
        const json& transfer = report.at("transfer_rates");
        INFO(transfer.dump());
        CHECK_FALSE(transfer.contains("data"));
        for (const auto& [delivery, key] : {std::pair<std::string, std::string>{"file", "volume_read_mb_per_s"}, {"http", "upload_mb_per_s"}}) {
            REQUIRE(transfer.contains(delivery));
            CHECK(transfer[delivery]["padding_mb"].get<double>() == Approx(67.108864));
            CHECK(transfer[delivery]["plain_s"].get<double>() > 0);
            CHECK(transfer[delivery]["padded_s"].get<double>() > 0);
            const json& rate = transfer[delivery][key];
            CHECK((rate.is_null() || rate.get<double>() > 0));
        }
        CHECK_FALSE(transfer["advice"].get<std::string>().empty());
        std::istringstream log(ready.process().err());
        bool read_padded = false, fetched_padded = false;
        for (std::string line; std::getline(log, line);) {
            // "... (12345 bytes, 1 links)" or "... (HTTP 200, 12345 bytes)"
            const size_t unit = line.find(" bytes");
            if (unit == std::string::npos || line.find("jarvis-probe-") == std::string::npos)
                continue;
            const size_t number = line.find_last_not_of("0123456789", unit - 1) + 1;
            const long long bytes = std::atoll(line.substr(number, unit - number).c_str());
            read_padded = read_padded || (line.find("vlm-emulator: read ") == 0 && bytes >= (64ll << 20));
            fetched_padded = fetched_padded || (line.find("vlm-emulator: fetched ") == 0 && bytes >= (64ll << 20));
        }
        CHECK(read_padded);
        CHECK(fetched_padded);
    }
    {
        // Also a server configured to seek (TorchCodec): the measurement, which assumes every frame decoded, suggests
        // no rate for it.
        Emulator unready({}, {volume.path()});
        const json report_of_unready = probe(unready, {{"video_decoder", "torchcodec"}});
        const auto d = by_delivery(report_of_unready);
        CHECK(d.at("file")["ok"] == false);
        CHECK_THAT(d.at("file")["error"].get<std::string>(), Contains("Cannot load local files"));
        CHECK_THAT(d.at("file")["advice"].get<std::string>(), Contains("--allowed-local-media-path /mnt/input_data"));
        CHECK(d.at("frames")["ok"] == true); // no fallback hid anything, and the rest still work
        CHECK(d.at("http")["ok"] == true);
        CHECK(report_of_unready["server_decoding"]["delivery"] == "http"); // the first pointer delivery that works
        CHECK(report_of_unready["server_decoding"]["server_ms_per_megapixel"].is_null());
        CHECK_FALSE(report_of_unready["server_decoding"].contains("server_decode_ms_per_megapixel"));
        CHECK_THAT(report_of_unready["server_decoding"]["advice"].get<std::string>(), Contains("torchcodec") && Contains("does not apply"));
    }
    {
        // A server that takes no video refuses every delivery: the report is printed in full, and the exit is 5.
        Emulator no_video({"--limit-mm-per-prompt", R"({"video": 0})"}, {volume.path()});
        json config = volume_config(no_video, volume.path());
        const auto r = run_process({host_binary().string(), "--config", write_config(dir, config).string(), "probe", "--json"});
        CHECK(r.exit_code == 5);
        const json report = json::parse(r.out);
        CHECK(report["ok"] == false);
        CHECK_FALSE(report.contains("server_decoding")); // nothing to measure through
        for (const auto& [name, entry] : by_delivery(report)) {
            INFO(name);
            CHECK(entry["ok"] == false);
            CHECK_THAT(entry["advice"].get<std::string>(), Contains("--limit-mm-per-prompt.video 1"));
        }
        const auto text = run_process({host_binary().string(), "--config", write_config(dir, config).string(), "probe"});
        CHECK(text.exit_code == 5);
        CHECK_THAT(text.out, Contains("no delivery works with this server"));
    }
    CHECK(fs::is_empty(volume.path())); // the probe's own video is gone
    const auto unreachable = run_process({host_binary().string(), "--endpoint", "http://127.0.0.1:9/v1", "probe"});
    CHECK(unreachable.exit_code == 4);
    CHECK_THAT(unreachable.err, Contains("cannot reach http://127.0.0.1:9/v1/models"));
}

TEST_CASE("frames are encoded at the size the server resizes them to, as a video and as images", "[deliveries][frames][size]")
{
    // Qwen3-VL's rules: a video's frames share one pixel budget (large frames shrink, more so the more there are),
    // tiny ones grow to the minimum, every side a multiple of 32; images have their own budget. 48 frames of 1080p at
    // the image size (1152x640) would be over the video budget, which the server would shrink.
    auto rotated = make_video("size_rotated.mp4", {"-f", "lavfi", "-i", "testsrc2=size=640x352:rate=25", "-t", "2", "-c:v", "libx264"});
    set_mp4_rotation(rotated, 90);
    const std::vector<std::pair<fs::path, std::string>> cases = {
        {make_video("size_1080p.mp4", {"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25", "-t", "6", "-c:v", "libx264", "-preset", "ultrafast"}), "#fps=8"},
        {make_video("size_1080p_few.mp4", {"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast"}), "#fps=1"},
        {make_video("size_tiny.mp4", {"-f", "lavfi", "-i", "testsrc2=size=64x36:rate=10", "-t", "2", "-c:v", "libx264"}), ""},
        {make_video("size_odd.mkv", {"-f", "lavfi", "-i", "testsrc2=size=333x187:rate=10", "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv444p"}), ""},
        {rotated, ""},
    };
    Emulator emulator;
    TempDir dir;
    for (const auto& [video, extra] : cases) {
        INFO(video.filename().string() << extra);
        const fs::path config = write_config(dir, {{"endpoint", {{"base_url", emulator.base_url()}}}, {"loadout", loadout + "#delivery=frames#max_tokens=16384" + extra}});
        const json result = run_json(host_args(config, "ask", video));
        REQUIRE(result["media"]["delivery"] == "frames");
        const json seen = described(result)["videos"][0];
        CHECK(seen["width"] == seen["resized_width"]);
        CHECK(seen["height"] == seen["resized_height"]);
        CHECK(result["media"]["frames"][0]["width"] == seen["width"]);
        CHECK(result["estimate"]["resized_width"] == seen["width"]);
        CHECK(result["estimate"]["resized_height"] == seen["height"]);
        CHECK(result["estimate"]["prompt_tokens"] == result["usage"]["prompt_tokens"]);

        const fs::path slicer = write_config(dir, {{"endpoint", {{"base_url", emulator.base_url()}}},
                                                   {"loadout", "vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#max_tokens=16384" + extra}});
        const json images = run_json(host_args(slicer, "ask", video));
        const json images_seen = described(images); // kept: a loop over a temporary's member would outlive it
        for (const json& image : images_seen["images"]) {
            CHECK(image["width"] == image["resized_width"]);
            CHECK(image["height"] == image["resized_height"]);
        }
    }
}
