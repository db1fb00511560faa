#include "config/config_error.hpp"
#include "config/provider_config.hpp"
#include "core/conversation.hpp"
#include "core/vision_request.hpp"

#include "fixtures.hpp"
#include "fuzz_bodies.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

using Catch::Matchers::Contains;
using jarvis::parse_provider_config;

TEST_CASE("the configuration document is read with defaults for what it leaves out", "[config]")
{
    const auto empty = parse_provider_config(std::string("{}"), "cfg.json");
    CHECK(empty.endpoint.base_url == "http://127.0.0.1:8300/v1"); // Jarvis runs vLLM on 8300
    CHECK(empty.vllm.container_name == "vllm-server");             // and names its container so
    CHECK(empty.warnings.empty());
    CHECK_FALSE(empty.input_data.configured());
    CHECK(empty.http_delivery.bind == "127.0.0.1");
    CHECK(empty.frames.send_while_decoding);
    CHECK(empty.frames.decode_memory_bytes == 512LL * 1024 * 1024);
    CHECK(empty.frames.hardware_decode == "off"); // until measured on a GPU
    CHECK(empty.video_url.timeout_s == 30); // a stalled video server fails in a minute, whatever the chat's timeout
    CHECK(empty.video_url.cache_bytes == 32LL * 1024 * 1024);

    const auto full = parse_provider_config(std::string(R"({
        "endpoint": {"base_url": "https://gpu-box:8300/v1", "timeout_s": 60, "connect_timeout_s": 2.5,
                     "api_key_env": "VLLM_KEY"},
        "video_url": {"timeout_s": 5, "cache_mb": 0},
        "loadout": "vllm://m#nativevideo",
        "input_data": {"host_path": "C:\\Users\\me\\jarvis\\input_data", "container_path": "/data"},
        "http_delivery": {"advertise": "host.docker.internal", "bind": "0.0.0.0"},
        "frames": {"send_while_decoding": false, "decode_memory_mb": 96, "hardware_decode": "d3d11va:1"}})"),
                                            "cfg.json");
    CHECK(full.endpoint.base_url == "https://gpu-box:8300/v1");
    CHECK(full.endpoint.timeout_s == 60);
    CHECK(full.endpoint.connect_timeout_s == 2.5);
    CHECK(full.endpoint.api_key_env == "VLLM_KEY");
    CHECK(full.video_url.timeout_s == 5);
    CHECK(full.video_url.cache_bytes == 0);
    CHECK(full.input_data.configured());
    CHECK(full.input_data.container_path == "/data");
    CHECK(full.http_delivery.advertise == "host.docker.internal");
    CHECK_FALSE(full.frames.send_while_decoding);
    CHECK(full.frames.decode_memory_bytes == 96LL * 1024 * 1024);
    CHECK(full.frames.hardware_decode == "d3d11va:1");
    for (const char* setting : {"auto", "off", "cuda", "cuda:0", "vaapi:/dev/dri/renderD129", "vulkan"})
        CHECK(parse_provider_config(nlohmann::json{{"frames", {{"hardware_decode", setting}}}}.dump(), "cfg.json").frames.hardware_decode ==
              setting);
}

TEST_CASE("configuration errors name the origin and the key", "[config][errors]")
{
    CHECK_THROWS_WITH(parse_provider_config(std::string("{not json"), "my.json"), Contains("my.json: not valid JSON"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"endpoint": {"timeout_s": "5"}})"), "my.json"),
                      Contains("endpoint.timeout_s: must be a number"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"endpoint": {"timeout_s": -1}})"), "my.json"),
                      Contains("out of range"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"video_url": {"timeout_s": 0}})"), "my.json"),
                      Contains("video_url.timeout_s"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"video_url": {"cache_mb": -1}})"), "my.json"),
                      Contains("video_url.cache_mb: must be a number of megabytes"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"frames": {"decode_memory_mb": "lots"}})"), "my.json"),
                      Contains("frames.decode_memory_mb: must be a number of megabytes up to 1048576 (0 decodes on one thread)"));
    for (const char* setting : {"quantum", "", "cuda:", "GPU", "on"})
        CHECK_THROWS_WITH(parse_provider_config(nlohmann::json{{"frames", {{"hardware_decode", setting}}}}.dump(), "my.json"),
                          Contains("frames.hardware_decode: '" + std::string(setting) + "' is not \"off\", \"auto\" or a device type"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"frames": {"hardware_decode": true}})"), "my.json"),
                      Contains("frames.hardware_decode: must be a string"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"data_delivery": {"max_mb": 0}})"), "my.json"),
                      Contains("data_delivery.max_mb: must be a positive number of megabytes"));
    // Bytes beyond an int64 (converting them would be undefined) are refused, not wrapped.
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"conversation": {"cache_mb": 1e30}})"), "my.json"),
                      Contains("conversation.cache_mb: must be a number of megabytes up to 1048576"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"endpoint": {"base_url": "ftp://x"}})"), "my.json"),
                      Contains("must start with http:// or https://"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"input_data": {"host_path": "/srv/in"}})"), "my.json"),
                      Contains("must be given together"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"input_data": {"host_path": "/a", "container_path": "data"}})"), "my.json"),
                      Contains("absolute path inside the container"));
    CHECK_THROWS_WITH(parse_provider_config(std::string("[1, 2]"), "my.json"), Contains("must be a JSON object"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"frames": {"send_while_decoding": 1}})"), "my.json"),
                      Contains("frames.send_while_decoding: must be true or false"));
    // 2^32 + 2 would be 2 as an int.
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"frames": {"jpeg_quality": 4294967298}})"), "my.json"),
                      Contains("frames.jpeg_quality: 4294967298 is out of range [2, 31]"));
    // A path that would end early at a NUL, naming another folder.
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"input_data": {"host_path": "/srv/in\u0000put", "container_path": "/data"}})"), "my.json"),
                      Contains("input_data.host_path: must not contain a NUL character"));
}

TEST_CASE("a request's video path with a NUL in it is refused, not cut short to another file's name", "[config][errors]")
{
    CHECK_THROWS_WITH(jarvis::parse_vision_request(R"({"video": "/tmp/clip.mp4\u0000.txt", "prompt": "x"})"),
                      Contains("video must not contain a NUL character"));
    CHECK(jarvis::parse_vision_request(R"({"video": "/tmp/clip.mp4", "prompt": "a \u0000 in the text is text"})").video == "/tmp/clip.mp4");
    // The same in a conversation handed back for a follow-up, which names the video to open again.
    nlohmann::json conversation = {{"version", jarvis::conversation_version}, {"plugin", "frame_slicer"},
                                   {"video", std::string("/tmp/clip.mp4\0.txt", 18)}, {"loadout", "vllm://m"},
                                   {"media_key", std::string(64, 'a')}, {"turns", {{{"prompt", "x"}, {"answer", "y"}}}}};
    CHECK_THROWS_WITH(jarvis::parse_conversation(conversation, "frame_slicer"), Contains("'video' contains a NUL character"));
    conversation["video"] = "/tmp/clip.mp4";
    CHECK(jarvis::parse_conversation(conversation, "frame_slicer").video == "/tmp/clip.mp4");
}

TEST_CASE("keys the module does not own are ignored with one warning and Jarvis's port is read", "[config][tolerance]")
{
    // The head of Jarvis's system_config/config.yaml, as its host would hand it over.
    const auto c = parse_provider_config(std::string(R"({"device": "cuda", "paths": {"venv_python": "x"}, "ports": {"ollama": 11434, "vllm": 8300},
        "vllm": {"model_startup_timeout": 800, "default_context_size": 16384}, "endpoint": {"timeout": 5}, "lodout": "vllm://m"})"),
                                         "jarvis.json");
    REQUIRE(c.warnings.size() == 1);
    CHECK_THAT(c.warnings[0], Contains("jarvis.json: keys jarvis-vision does not use are ignored: device, "));
    for (const char* key : {"endpoint.timeout", "lodout", "paths", "vllm.model_startup_timeout", "vllm.default_context_size"})
        CHECK_THAT(c.warnings[0], Contains(key));
    CHECK(c.endpoint.base_url == "http://127.0.0.1:8300/v1");
    CHECK(parse_provider_config(std::string(R"({"ports": {"vllm": 8301}})"), "x").endpoint.base_url == "http://127.0.0.1:8301/v1");
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"ports": {"vllm": "high"}})"), "x"), Contains("ports.vllm: must be a port number"));
}

TEST_CASE("inputs the fuzzer once broke the document parsers with are configuration errors", "[config][fuzz]")
{
    CHECK(jarvis::test::replay_fuzz_regressions("fuzz_documents", jarvis::fuzz::documents) > 0); // nothing else escapes
    // The first of them: a number too large for a double is the document's fault, said as such.
    CHECK_THROWS_AS(parse_provider_config(std::string(R"({"ends": 3e31407})"), "x"), jarvis::ConfigError);
}
