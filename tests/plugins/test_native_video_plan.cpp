// native_video's plan on real videos through the real plugin .so.
#include "fixtures.hpp"
#include "media/h264_references.hpp"
#include "plugin_loader.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>

using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

jarvis::vision::Provider native_provider(const json& config = json::object())
{
    const auto plugin = jarvis::host::load_plugin(jarvis::test::build_plugin_dir() / "native_video.so");
    return jarvis::vision::Provider(plugin, config.dump());
}

json plan(jarvis::vision::Provider& p, const std::string& video, const std::string& loadout = "vllm://Org/Model#nativevideo#delivery=data")
{
    return json::parse(p.plan(json{{"video", video}, {"prompt", "What happens?"}, {"loadout", loadout}}.dump()));
}

jv_status failure(jarvis::vision::Provider& p, const std::string& video, std::string& message)
{
    try {
        plan(p, video);
    } catch (const jarvis::vision::Error& e) {
        message = e.what();
        return e.code();
    }
    return JV_OK;
}

} // namespace

TEST_CASE("native_video plans a video_url request with the media's true size and a token estimate", "[native_video]")
{
    auto provider = native_provider();
    const json doc = plan(provider, jarvis::test::sample_video().string());
    CHECK(doc["plugin"] == "native_video");
    CHECK(doc["endpoint"] == "http://127.0.0.1:8300/v1"); // Jarvis runs vLLM on 8300
    const json& body = doc["request"];
    CHECK(body["model"] == "Org/Model");
    const json& content = body["messages"][0]["content"];
    REQUIRE(content.size() == 2);
    CHECK(content[0]["type"] == "video_url");
    CHECK(content[0]["video_url"]["url"].get<std::string>().rfind("data:video/mp4;base64,", 0) == 0);
    CHECK(content[1] == json{{"type", "text"}, {"text", "What happens?"}});
    CHECK(doc["media"]["delivery"] == "data");
    CHECK(doc["media"]["width"] == 640);
    CHECK(doc["media"]["height"] == 360);
    CHECK(doc["media"]["duration_s"].get<double>() == Approx(4.0).margin(0.1));
    // 4 s at 30 fps: vLLM's loader takes 8 frames (2 fps), 4 groups at 640x352 -> 20x11 = 220 tokens each.
    CHECK(doc["estimate"]["frames"] == 8);
    CHECK(doc["estimate"]["visual_tokens"].get<int>() > 4 * 220);
    CHECK(doc["estimate"]["prompt_tokens"].get<int>() > doc["estimate"]["visual_tokens"].get<int>());
}

TEST_CASE("the displayed size honours rotation metadata", "[native_video][media]")
{
    const auto rotated = jarvis::test::make_video(
        "rotated_90.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x176:rate=25", "-t", "1", "-c:v", "libx264"});
    jarvis::test::set_mp4_rotation(rotated, 90);
    auto provider = native_provider();
    const json doc = plan(provider, rotated.string());
    CHECK(doc["media"]["width"] == 176);
    CHECK(doc["media"]["height"] == 320);
}

TEST_CASE("unusable videos fail with JV_E_MEDIA naming the file and the reason", "[native_video][errors]")
{
    auto provider = native_provider();
    jarvis::test::TempDir dir;
    std::string message;

    CHECK(failure(provider, (dir.path() / "missing.mp4").string(), message) == JV_E_MEDIA);
    CHECK_THAT(message, Contains("missing.mp4") && Contains("no such file"));

    CHECK(failure(provider, dir.path().string(), message) == JV_E_MEDIA);
    CHECK_THAT(message, Contains("is a directory"));

    const auto empty = dir.path() / "empty.mp4";
    std::ofstream(empty).close();
    CHECK(failure(provider, empty.string(), message) == JV_E_MEDIA);
    CHECK_THAT(message, Contains("empty.mp4") && Contains("empty"));

    const auto text = dir.path() / "notes.mp4";
    std::ofstream(text) << "these are my notes, not a video\n";
    CHECK(failure(provider, text.string(), message) == JV_E_MEDIA);
    CHECK_THAT(message, Contains("notes.mp4") && Contains("not a video file"));

    const auto audio = jarvis::test::make_video("audio_only.m4a", {"-f", "lavfi", "-i", "sine=frequency=440", "-t", "1", "-c:a", "aac"});
    CHECK(failure(provider, audio.string(), message) == JV_E_MEDIA);
    CHECK_THAT(message, Contains("audio_only.m4a") && Contains("no video stream"));
}

TEST_CASE("a bad request or loadout is JV_E_INVALID_ARGUMENT", "[native_video][errors]")
{
    auto provider = native_provider();
    try {
        plan(provider, jarvis::test::sample_video().string(), "vllm://m#nativevideo#fps=fast");
        FAIL("expected an error");
    } catch (const jarvis::vision::Error& e) {
        CHECK(e.code() == JV_E_INVALID_ARGUMENT);
        CHECK_THAT(e.what(), Contains("fps=fast is not a number"));
    }
    CHECK_THROWS_WITH(provider.plan(R"({"prompt": "x"})"), Contains("video is required"));
    CHECK_THROWS_WITH(provider.plan("not json"), Contains("not valid JSON"));
    CHECK_THROWS_WITH(jarvis::vision::Provider(jarvis::host::load_plugin(jarvis::test::build_plugin_dir() / "native_video.so"),
                                               R"({"endpoint": {"base_url": 5}})"),
                      Contains("endpoint.base_url: must be a string"));
}

TEST_CASE("what a newer host or Jarvis adds is ignored with a warning and is never an error", "[native_video][tolerance]")
{
    // Jarvis's own configuration keys, a request member from a newer host, Jarvis's loadout flags and keys.
    auto provider = jarvis::vision::Provider(jarvis::host::load_plugin(jarvis::test::build_plugin_dir() / "native_video.so"),
                                             R"({"device": "cuda", "ports": {"vllm": 8301}, "vllm": {"model_startup_timeout": 800}})");
    const json request = {{"video", jarvis::test::sample_video().string()},
                          {"prompt", "What happens?"},
                          {"conversation_id", "from a newer host"},
                          {"loadout", "vllm://Org/Model#nativeVideo#stream#ctx=16384#vid_lim=2#img_lim=8#frobnicate=1#delivery=data"}};
    const json doc = json::parse(provider.plan(request.dump()));
    CHECK(doc["endpoint"] == "http://127.0.0.1:8301/v1"); // Jarvis's ports.vllm
    CHECK(doc["request"]["stream"] == true);               // Jarvis's #stream
    const std::string warnings = doc["warnings"].dump();
    CHECK_THAT(warnings, Contains("keys jarvis-vision does not use are ignored: device, vllm.model_startup_timeout"));
    CHECK_THAT(warnings, Contains("unknown member 'conversation_id' is ignored"));
    CHECK_THAT(warnings, Contains("unknown key 'frobnicate' is ignored"));
    CHECK(doc["warnings"].size() == 3); // #stream, vid_lim and img_lim are Jarvis's, not unknown
}

TEST_CASE("frames.skip_references switches the H.264 reference skipping off", "[native_video][frames]")
{
    // OBS's default encoding (x264 veryfast, b-pyramid, one reference): B references other frames do not need.
    const auto video = jarvis::test::make_video(
        "obs_style.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "8", "-c:v", "libx264", "-preset", "veryfast",
                          "-x264-params", "keyint=150:min-keyint=150:scenecut=0:bframes=2:b-pyramid=normal:ref=1"});
    auto skipped_with = [&](const json& config) {
        std::string log;
        auto provider = jarvis::vision::Provider(jarvis::host::load_plugin(jarvis::test::build_plugin_dir() / "native_video.so"), config.dump(),
                                                 [&](int32_t, std::string_view line) { log += std::string(line) + "\n"; }, JV_LOG_DEBUG);
        plan(provider, video.string(), "vllm://Org/Model#nativevideo#delivery=frames#fps=1");
        const std::smatch found = [&] {
            std::smatch m;
            std::regex_search(log, m, std::regex(R"((\d+) reference pictures skipped)"));
            return m;
        }();
        REQUIRE(!found.empty());
        return std::stoi(found[1].str());
    };
    if (jarvis::h264::replay_matches_this_ffmpeg()) // off on an FFmpeg it was not checked against
        CHECK(skipped_with(json::object()) > 0);
    CHECK(skipped_with({{"frames", {{"skip_references", false}}}}) == 0);
    CHECK_THROWS_WITH(jarvis::vision::Provider(jarvis::host::load_plugin(jarvis::test::build_plugin_dir() / "native_video.so"),
                                               R"({"frames": {"skip_references": "no"}})"),
                      Contains("frames.skip_references: must be true or false"));
}
