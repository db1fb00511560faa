// The vlm-emulator's own rules, checked over real HTTP against what vLLM does (docs/contract.md, "vlm-emulator").
#include "child_process.hpp"
#include "emulator_bodies.hpp"
#include "core/base64.hpp"
#include "fixtures.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using jarvis::test::Emulator;
using nlohmann::json;

namespace {

// The parts go in a vector: nlohmann reads a one-element braced list as that element, not as an array.
json chat_with(const std::vector<json>& parts, const json& extra = json::object())
{
    json message = json::object();
    message["role"] = "user";
    message["content"] = json(parts);
    json body = json::object();
    body["messages"] = json::array();
    body["messages"].push_back(message);
    body["max_tokens"] = 2048;
    body.update(extra);
    return body;
}

json video_part(const std::string& url) { return {{"type", "video_url"}, {"video_url", {{"url", url}}}}; }

struct Answer
{
    long status;
    json body;
    json described; // the emulator's answer text, parsed
};

Answer post(const Emulator& emulator, const json& body)
{
    const auto r = jarvis::test::http_post_json(emulator.base_url() + "/chat/completions", body.dump());
    Answer a{r.status, json::parse(r.body), json()};
    if (r.status == 200)
        a.described = json::parse(a.body.at("choices").at(0).at("message").at("content").get<std::string>());
    return a;
}

std::string error_message(const Answer& a) { return a.body.at("error").at("message").get<std::string>(); }

// `count` JPEG frames of width x height from FFmpeg's test source, base64-encoded.
std::vector<std::string> jpeg_frames(int count, int width, int height)
{
    jarvis::test::TempDir dir;
    const auto r = jarvis::test::run_process({"/usr/bin/ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                                             "testsrc2=size=" + std::to_string(width) + "x" + std::to_string(height) + ":rate=10",
                                             "-frames:v", std::to_string(count), (dir.path() / "f%03d.jpg").string()});
    REQUIRE(r.exit_code == 0);
    std::vector<std::string> out;
    for (int i = 1; i <= count; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "f%03d.jpg", i);
        std::string encoded;
        jarvis::append_base64(encoded, jarvis::test::read_file(dir.path() / name));
        out.push_back(encoded);
    }
    return out;
}

std::string frame_list_url(const std::vector<std::string>& frames)
{
    std::string url = "data:video/jpeg;base64,";
    for (size_t i = 0; i < frames.size(); ++i)
        url += (i ? "," : "") + frames[i];
    return url;
}

std::string file_url(const fs::path& p) { return "file://" + p.string(); }

} // namespace

TEST_CASE("file:// is refused without --allowed-local-media-path, with vLLM's message", "[emulator][file]")
{
    Emulator emulator;
    const Answer a = post(emulator, chat_with({video_part(file_url(jarvis::test::sample_video()))}));
    CHECK(a.status == 500);
    CHECK(error_message(a) == "Cannot load local files without `--allowed-local-media-path`.");
}

TEST_CASE("file:// is served strictly under the allowed path, after resolving symlinks", "[emulator][file]")
{
    jarvis::test::TempDir root;
    const fs::path allowed = root.path() / "input_data";
    fs::create_directories(allowed / "clips");
    fs::copy_file(jarvis::test::sample_video(), allowed / "clips" / "my clip.mp4");
    fs::copy_file(jarvis::test::sample_video(), root.path() / "outside.mp4");
    fs::create_symlink(root.path() / "outside.mp4", allowed / "escape.mp4");
    Emulator emulator({"--allowed-local-media-path", allowed.string()});

    const Answer inside = post(emulator, chat_with({video_part("file://" + (allowed / "clips").string() + "/my%20clip.mp4")}));
    REQUIRE(inside.status == 200);
    CHECK(inside.described["videos"][0]["sha256"] == jarvis::test::sha256_hex_of_file(jarvis::test::sample_video()));

    for (const std::string& url : {file_url(root.path() / "outside.mp4"), file_url(allowed / "escape.mp4"),
                                   file_url(allowed / ".." / "outside.mp4")}) {
        INFO(url);
        const Answer refused = post(emulator, chat_with({video_part(url)}));
        CHECK(refused.status == 400);
        CHECK_THAT(error_message(refused), Contains("must be a subpath of `--allowed-local-media-path " + fs::canonical(allowed).string() + "`."));
    }
}

TEST_CASE("an allowed path that does not exist stops the emulator at start-up", "[emulator][file]")
{
    const auto r = jarvis::test::run_process({JARVIS_TEST_EMULATOR_BINARY, "--port", "0", "--allowed-local-media-path", "/no/such/dir"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("Invalid `--allowed-local-media-path`: The path /no/such/dir does not exist."));
}

TEST_CASE("a video/jpeg frame list is cut to num_frames (32 by default), silently, as vLLM does", "[emulator][frames]")
{
    Emulator emulator;
    const auto frames = jpeg_frames(40, 96, 64);
    const Answer defaulted = post(emulator, chat_with({video_part(frame_list_url(frames))}));
    REQUIRE(defaulted.status == 200);
    CHECK(defaulted.described["videos"][0]["frames"] == 32);
    // fps defaults to 1 and indices to 0..N-1: pairs land on 0.5, 2.5, 4.5, ... whatever the frames' real times.
    CHECK(defaulted.described["videos"][0]["timestamps"][0] == 0.5);
    CHECK(defaulted.described["videos"][0]["timestamps"][1] == 2.5);

    const Answer all = post(emulator, chat_with({video_part(frame_list_url(frames))},
                                                {{"media_io_kwargs", {{"video", {{"num_frames", -1}, {"fps", 10}}}}}}));
    REQUIRE(all.status == 200);
    CHECK(all.described["videos"][0]["frames"] == 40);
    CHECK(all.described["videos"][0]["width"] == 96);

    // True times from the original indices: frames 0, 15, 30, 45 of a 30 fps video are 0, 0.5, 1, 1.5 s.
    const Answer timed = post(emulator, chat_with({video_part(frame_list_url({frames[0], frames[1], frames[2], frames[3]}))},
                                                  {{"media_io_kwargs", {{"video", {{"num_frames", -1}, {"fps", 30}, {"frames_indices", {0, 15, 30, 45}}, {"total_num_frames", 60}}}}}}));
    REQUIRE(timed.status == 200);
    CHECK(timed.described["videos"][0]["timestamps"] == json::array({0.2, 1.2})); // (0+0.5)/2 prints 0.2 (half-even)

    const Answer mismatch = post(emulator, chat_with({video_part(frame_list_url({frames[0], frames[1]}))},
                                                     {{"media_io_kwargs", {{"video", {{"frames_indices", {0, 1, 2}}}}}}}));
    CHECK(mismatch.status == 400);
    CHECK(error_message(mismatch) == "frames_indices length (3) must match number of frames sent (2)");

    const Answer mixed = post(emulator, chat_with({video_part(frame_list_url({frames[0], jpeg_frames(1, 48, 32)[0]}))}));
    CHECK(mixed.status == 400);
    CHECK_THAT(error_message(mixed), Contains("same shape"));

    // Python slices by integers only: a float count is refused, however large (the fuzzer found -1e106 converted).
    for (const json& count : {json(2.5), json(-1e106), json("8")}) {
        const Answer refused = post(emulator, chat_with({video_part(frame_list_url(frames))},
                                                        {{"media_io_kwargs", {{"video", {{"num_frames", count}}}}}}));
        CHECK(refused.status == 400);
        CHECK(error_message(refused) == "num_frames must be an integer");
    }
}

TEST_CASE("the server's media_io_kwargs and the request's merge key by key, with the fps/num_frames trap", "[emulator][frames]")
{
    // The server lifts the 32-frame cut; a request that sets only fps drops the server's num_frames again.
    Emulator emulator({"--media-io-kwargs", R"({"video": {"num_frames": -1}})"});
    const auto frames = jpeg_frames(40, 64, 48);
    CHECK(post(emulator, chat_with({video_part(frame_list_url(frames))})).described["videos"][0]["frames"] == 40);
    const Answer only_fps = post(emulator, chat_with({video_part(frame_list_url(frames))}, {{"media_io_kwargs", {{"video", {{"fps", 2}}}}}}));
    CHECK(only_fps.described["videos"][0]["frames"] == 32);
}

TEST_CASE("video files are sampled like vLLM's qwen3_vl loader, or like the old 32-frame loader", "[emulator][sampling]")
{
    const auto ten_seconds = jarvis::test::make_video(
        "ten_seconds_30fps.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "10", "-c:v", "libx264", "-g", "60"});
    std::string data = "data:video/mp4;base64,";
    jarvis::append_base64(data, jarvis::test::read_file(ten_seconds));

    Emulator newest;
    const Answer a = post(newest, chat_with({video_part(data)}));
    REQUIRE(a.status == 200);
    // Reference §4.3: 10 s at 30 fps -> 20 frames, indices [0,16,31,47,...], timestamps 0.3, 1.3, 2.4, ..., 9.7.
    CHECK(a.described["videos"][0]["frames"] == 20);
    const json& ts = a.described["videos"][0]["timestamps"];
    REQUIRE(ts.size() == 10);
    CHECK(ts[0] == 0.3);
    CHECK(ts[1] == 1.3);
    CHECK(ts[2] == 2.4);
    CHECK(ts[9] == 9.7);

    Emulator old({"--video-loader", "opencv"});
    CHECK(post(old, chat_with({video_part(data)})).described["videos"][0]["frames"] == 32);

    // The old loader with num_frames -1 loads every frame, so the processor samples, at mm_processor_kwargs' fps.
    const Answer resampled = post(old, chat_with({video_part(data)}, {{"media_io_kwargs", {{"video", {{"num_frames", -1}}}}},
                                                                     {"mm_processor_kwargs", {{"fps", 1}}}}));
    REQUIRE(resampled.status == 200);
    CHECK(resampled.described["videos"][0]["frames"] == 10); // 10 s at 1 fps
}

TEST_CASE("video files are sampled over the frame count OpenCV reads from the header, not over what decodes", "[emulator][sampling]")
{
    jarvis::test::TempDir dir;
    Emulator emulator({"--allowed-local-media-path", dir.path().string()});

    // A Matroska whose writer never finished (a crashed recorder; browsers' MediaRecorder WebM) has no duration:
    // OpenCV's count is then the missing duration's sentinel times the frame rate, and numpy refuses the negative
    // sample count the qwen3_vl loader computes from it.
    const fs::path unfinished = dir.path() / "unfinished.mkv";
    fs::copy_file(jarvis::test::make_video("live_3s.mkv", {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "3",
                                                           "-c:v", "libx264", "-live", "1"}),
                  unfinished);
    const Answer refused = post(emulator, chat_with({video_part(file_url(unfinished))}));
    CHECK(refused.status == 422);
    CHECK(error_message(refused) == "Failed to decode video media at index 0: Number of samples, -276701161105643264, must be non-negative.");

    // An MP4 whose index is at its start, cut at 57% (a download stopped short): the header's 300 frames are sampled
    // (20 at 2 fps), and those past the last frame that decodes are lost, with their times. Debian's OpenCV, walked as
    // vLLM walks it, grabs 170 frames of this file (all up to 170 but 168).
    const fs::path whole = jarvis::test::make_video("ten_seconds_faststart.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30",
                                                                                  "-t", "10", "-c:v", "libx264", "-g", "60",
                                                                                  "-movflags", "+faststart"});
    const fs::path cut = dir.path() / "cut.mp4";
    fs::copy_file(whole, cut);
    fs::resize_file(cut, fs::file_size(whole) * 57 / 100);
    const Answer a = post(emulator, chat_with({video_part(file_url(cut))}));
    REQUIRE(a.status == 200);
    CHECK(a.described["videos"][0]["frames"] == 11); // indices 0, 16, ..., 157 of linspace(0, 299, 20); 173 is past the end
    CHECK(a.described["videos"][0]["timestamps"] == json::array({0.3, 1.3, 2.4, 3.4, 4.5, 5.2})); // 157 repeated: 5.2
}

TEST_CASE("limits and context length are enforced with vLLM's messages", "[emulator][limits]")
{
    std::string data = "data:video/mp4;base64,";
    jarvis::append_base64(data, jarvis::test::read_file(jarvis::test::sample_video()));

    Emulator one_video({"--limit-mm-per-prompt", R"({"video": 1, "image": 4})"});
    const Answer two = post(one_video, chat_with({video_part(data), video_part(data)}));
    CHECK(two.status == 400);
    CHECK(error_message(two) == "At most 1 video(s) may be provided in one prompt. Set `--limit-mm-per-prompt` to increase this limit.");
    CHECK(two.body["error"]["param"] == "video");

    Emulator small({"--max-model-len", "4000"});
    const Answer fits = post(small, chat_with({video_part(data)}));
    REQUIRE(fits.status == 200);
    const int prompt = fits.body["usage"]["prompt_tokens"].get<int>();
    CHECK(prompt > 800); // the video's tokens are counted
    const Answer too_long = post(small, chat_with({video_part(data)}, {{"max_tokens", 4000 - prompt + 1}}));
    CHECK(too_long.status == 400);
    CHECK_THAT(error_message(too_long), Contains("This model's maximum context length is 4000 tokens. However, you requested"));
    CHECK(too_long.body["error"]["param"] == "input_tokens");

    // Found by fuzzing: max_tokens 0 made the emulator cut its answer into empty pieces forever, and a huge one
    // overflowed the context check. vLLM refuses the first in its sampling parameters.
    for (const int64_t zero_or_less : {int64_t{0}, int64_t{-5}}) {
        const Answer none = post(small, chat_with({{{"type", "text"}, {"text", "hi"}}}, {{"max_tokens", zero_or_less}}));
        CHECK(none.status == 400);
        CHECK(error_message(none) == "max_tokens must be at least 1, got " + std::to_string(zero_or_less) + ".");
    }
    const Answer huge = post(small, chat_with({{{"type", "text"}, {"text", "hi"}}}, {{"max_tokens", INT64_MAX}}));
    CHECK(huge.status == 400);
    CHECK_THAT(error_message(huge), Contains("for a total of at least 9223372036854775807 tokens"));
}

TEST_CASE("requests the fuzzer once crashed the emulator with are answered with a status", "[emulator][fuzz]")
{
    CHECK(jarvis::test::replay_fuzz_regressions("fuzz_emulator_request", jarvis::fuzz::emulator_request) > 0);
}

TEST_CASE("URLs: unknown schemes, data URLs without base64, and http fetches with their failures", "[emulator][urls]")
{
    // A real HTTP server on loopback holding the sample video.
    httplib::Server media;
    const std::string bytes = jarvis::test::read_file(jarvis::test::sample_video());
    media.Get("/clip.mp4", [&](const httplib::Request&, httplib::Response& res) { res.set_content(bytes, "video/mp4"); });
    const int port = media.bind_to_any_port("127.0.0.1");
    std::thread serving([&] { media.listen_after_bind(); });
    const std::string base = "http://127.0.0.1:" + std::to_string(port);

    Emulator emulator;
    const Answer fetched = post(emulator, chat_with({video_part(base + "/clip.mp4")}));
    CHECK(fetched.status == 200);
    CHECK(fetched.described["videos"][0]["bytes"] == bytes.size());

    const Answer missing = post(emulator, chat_with({video_part(base + "/nothing.mp4")}));
    CHECK(missing.status == 422);
    CHECK(error_message(missing) == "Failed to fetch media from URL: HTTP 404 error");

    const Answer ftp = post(emulator, chat_with({video_part("ftp://example.invalid/clip.mp4")}));
    CHECK(ftp.status == 400);
    CHECK(error_message(ftp) == "The URL must be either a HTTP, data or file URL.");

    const Answer plain = post(emulator, chat_with({video_part("data:video/mp4,AAAA")}));
    CHECK(plain.status == 501);
    CHECK(error_message(plain) == "Only base64 data URLs are supported for now.");

    const Answer not_video = post(emulator, chat_with({video_part("data:video/mp4;base64,aGVsbG8gd29ybGQ=")}));
    CHECK(not_video.status == 422);
    CHECK_THAT(error_message(not_video), Contains("Failed to decode video media at index 0"));

    const Answer odd_part = post(emulator, chat_with({{{"type", "hologram"}}}));
    CHECK(odd_part.status == 400);
    CHECK_THAT(error_message(odd_part), Contains("Unsupported chat content part type: 'hologram'"));

    media.stop();
    serving.join();
}

TEST_CASE("a request body that pauses for longer than 5 s is read whole, as vLLM reads it", "[emulator]")
{
    // Our bodies are sent while their frames are decoded: a long decode on a busy machine pauses one. uvicorn waits;
    // httplib's server, by default, gave up after 5 s with 400 and an empty body.
    // A server that gave up closes the connection: the next chunk's write must fail, not kill the test by SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    Emulator emulator;
    const std::string body = chat_with({{{"type", "text"}, {"text", "What happens?"}}}).dump();
    httplib::Client client(emulator.root_url());
    client.set_read_timeout(60, 0);
    int chunk = 0;
    const auto r = client.Post("/v1/chat/completions",
                               [&](size_t, httplib::DataSink& sink) {
                                   if (chunk == 1)
                                       std::this_thread::sleep_for(std::chrono::seconds(6)); // the pause under test
                                   if (chunk < 2) {
                                       const size_t half = body.size() / 2;
                                       const std::string part = chunk == 0 ? body.substr(0, half) : body.substr(half);
                                       sink.write(part.data(), part.size());
                                   } else {
                                       sink.done();
                                   }
                                   ++chunk;
                                   return true;
                               },
                               "application/json");
    REQUIRE(r);
    INFO(r->body);
    CHECK(r->status == 200);
    CHECK(json::parse(r->body).at("choices").size() == 1);
}

TEST_CASE("images are decoded and /v1/models and /health answer", "[emulator]")
{
    Emulator emulator({"--served-model-name", "my/model"});
    const auto models = jarvis::test::http_get(emulator.base_url() + "/models");
    CHECK(models.status == 200);
    CHECK(json::parse(models.body)["data"][0]["id"] == "my/model");
    CHECK(jarvis::test::http_get(emulator.root_url() + "/health").status == 200);

    const Answer image = post(emulator, chat_with({{{"type", "image_url"}, {"image_url", {{"url", "data:image/jpeg;base64," + jpeg_frames(1, 200, 100)[0]}}}}}));
    REQUIRE(image.status == 200);
    CHECK(image.described["images"][0]["width"] == 200);
    CHECK(image.described["images"][0]["height"] == 100);
}
