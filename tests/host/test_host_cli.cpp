// jarvis-host as a user runs it: a real process, its stdout, stderr and exit code.
#include "child_process.hpp"
#include "fixtures.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

using Catch::Matchers::Contains;
using jarvis::test::run_process;
using nlohmann::json;

namespace {

jarvis::test::ProcessResult host(std::vector<std::string> args)
{
    args.insert(args.begin(), jarvis::test::host_binary().string());
    return run_process(args);
}

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

} // namespace

TEST_CASE("plugins --json lists both plugins and marks the routed one as selected", "[host]")
{
    for (const auto& [loadout, selected] : {std::pair{"vllm://m", "frame_slicer"}, std::pair{"vllm://m#NativeVideo", "native_video"}}) {
        const auto r = host({"--loadout", loadout, "plugins", "--json"});
        REQUIRE(r.exit_code == 0);
        const json doc = json::parse(r.out);
        CHECK(doc["errors"].empty());
        REQUIRE(doc["plugins"].size() == 2);
        for (const auto& p : doc["plugins"]) {
            CHECK(p["abi"] == "1.1");
            CHECK(p["path"].get<std::string>().find(p["name"].get<std::string>() + ".so") != std::string::npos);
            CHECK(p["selected"] == (p["name"] == selected));
        }
    }
}

TEST_CASE("plugins --json reports files that fail to load, and the rest still load", "[host][errors]")
{
    const auto r = host({"--plugin-dir", jarvis::test::fixture_plugin_dir().string(), "plugins", "--json"});
    REQUIRE(r.exit_code == 0);
    const json doc = json::parse(r.out);
    CHECK(doc["plugins"].size() == 2); // echo and throwing
    CHECK(doc["errors"].size() == 4);
    for (const auto& e : doc["errors"]) {
        CHECK_FALSE(e["path"].get<std::string>().empty());
        CHECK_FALSE(e["message"].get<std::string>().empty());
    }
}

TEST_CASE("configuration errors exit 2 with one line naming the file or key", "[host][errors]")
{
    jarvis::test::TempDir dir;
    const auto bad_json = dir.path() / "bad.json";
    std::ofstream(bad_json) << "{\"loadout\": ";
    const auto unknown_key = dir.path() / "typo.json";
    std::ofstream(unknown_key) << R"({"endpoint": {"base_url": 8000}})";

    struct Case
    {
        std::vector<std::string> args;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {{"--config", (dir.path() / "missing.json").string(), "plugins"}, "missing.json"},
        {{"--config", bad_json.string(), "plugins"}, "bad.json': not valid JSON"},
        {{"--config", unknown_key.string(), "plugins"}, "endpoint.base_url: must be a string"},
        {{"--loadout", "vllm://m#fps=fast", "plugins"}, "fps=fast is not a number"},
        {{"--plugin-dir", (dir.path() / "nowhere").string(), "plugins"}, "nowhere' does not exist"},
        {{"--frobnicate", "plugins"}, "unknown option --frobnicate"},
        {{"plan", "--prompt", "x"}, "needs --video"},
        {{"dance"}, "unknown command 'dance'"},
    };
    for (const auto& c : cases) {
        INFO(c.args.front() << " ... " << c.args.back());
        const auto r = host(c.args);
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains(c.expected));
        CHECK(lines(r.err) == 1);
    }
}

TEST_CASE("arguments and files that are not UTF-8 exit 2 with one line naming them, and --json still prints an object", "[host][errors]")
{
    jarvis::test::TempDir dir;
    const auto latin1_config = dir.path() / "latin1.json";
    std::ofstream(latin1_config) << "{\"loadout\": \"vllm://m#fps=\xff\"}";
    struct Case
    {
        std::vector<std::string> args;
        std::string expected;
    };
    // A shell in a Latin-1 locale, a file named in another encoding, a configuration saved in one.
    const std::vector<Case> cases = {
        {{"plan", "--video", "clip.mp4", "--prompt", "qu\xe9 pasa"}, "--prompt is not UTF-8 text (byte 0xe9 at offset 2)"},
        {{"plan", "--video", "caf\xe9.mp4", "--prompt", "x"}, "--video is not UTF-8 text (byte 0xe9 at offset 3)"},
        {{"plan", "--video", "clip.mp4", "--prompt", "\xed\xa0\x80 a surrogate"}, "--prompt is not UTF-8 text (byte 0xed at offset 0)"},
        {{"--loadout", "vllm://m#fps=\xff", "plugins"}, "--loadout is not UTF-8 text (byte 0xff at offset 13)"},
        {{"--config", (dir.path() / "\xff.json").string(), "plugins"}, "--config is not UTF-8 text"},
        {{"--config", latin1_config.string(), "plugins"}, "latin1.json': not valid JSON"},
    };
    for (const auto& c : cases) {
        INFO(c.expected);
        std::vector<std::string> args = c.args;
        args.push_back("--json");
        const auto r = host(args);
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Contains(c.expected));
        CHECK(lines(r.err) == 1);
        const json doc = json::parse(r.out); // the bytes quoted in a message replaced, never an abort
        CHECK(doc["error"]["exit_code"] == 2);
        CHECK_THAT(doc["error"]["message"].get<std::string>(), Contains(c.expected.substr(0, 10)));
    }
    // UTF-8 beyond ASCII is text like any other.
    const auto r = host({"--endpoint", "http://127.0.0.1:9/v1", "plan", "--video", "/no/such/caf\xc3\xa9 \xf0\x9f\x8e\xa5.mp4", "--prompt",
                         "qu\xc3\xa9 pasa \xe6\x97\xa5", "--json"});
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.err, Contains("caf\xc3\xa9 \xf0\x9f\x8e\xa5.mp4"));
}

TEST_CASE("an unusable video exits 3 and with --json the error is also an object on stdout", "[host][errors]")
{
    const auto r = host({"--loadout", "vllm://m#nativevideo", "plan", "--video", "/no/such/clip.mp4", "--prompt", "x", "--json"});
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.err, Contains("/no/such/clip.mp4") && Contains("no such file"));
    const json doc = json::parse(r.out);
    CHECK(doc["error"]["kind"] == "media");
    CHECK_THAT(doc["error"]["message"].get<std::string>(), Contains("no such file"));
}

TEST_CASE("plan --json prints the contract's plan document and FFmpeg stays off stderr", "[host]")
{
    jarvis::test::TempDir dir;
    const auto config = dir.path() / "jarvis.json";
    std::ofstream(config) << json{{"loadout", "vllm://Org/Model#nativevideo#max_tokens=99"},
                                  {"endpoint", {{"base_url", "http://10.1.2.3:8300/v1"}}}}
                                 .dump();
    const auto r = host({"--config", config.string(), "plan", "--video", jarvis::test::sample_video().string(),
                         "--prompt", "What moves?", "--json"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    const json doc = json::parse(r.out);
    for (const char* key : {"plugin", "endpoint", "request", "media", "estimate", "warnings"})
        CHECK(doc.contains(key));
    CHECK(doc["endpoint"] == "http://10.1.2.3:8300/v1");
    CHECK(doc["request"]["max_tokens"] == 99);
    CHECK(doc["request"]["model"] == "Org/Model");

    // The command line overrides the file: the same config, routed elsewhere by --loadout.
    const auto override = host({"--config", config.string(), "--endpoint", "http://127.0.0.1:9/v1", "plan",
                                "--video", jarvis::test::sample_video().string(), "--prompt", "x", "--json"});
    REQUIRE(override.exit_code == 0);
    CHECK(json::parse(override.out)["endpoint"] == "http://127.0.0.1:9/v1");
}

TEST_CASE("vllm-command renders the launch that matches the configuration", "[host][vllm]")
{
    jarvis::test::TempDir dir;
    const auto config = dir.path() / "jarvis.json";
    std::ofstream(config) << json{{"loadout", "vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#nativevideo#ctx=32768"},
                                  {"endpoint", {{"base_url", "http://127.0.0.1:8300/v1"}}},
                                  {"input_data", {{"host_path", "C:\\Users\\Ana Maria\\Jarvis\\input_data"}, {"container_path", "/data"}}},
                                  {"gpu", {{"total_gb", 32}}}}
                                 .dump();

    const auto args = host({"--config", config.string(), "vllm-command", "--format", "args"});
    REQUIRE(args.exit_code == 0);
    const json vllm_args = json::parse(args.out);
    const std::vector<std::string> expected_start = {"--model", "QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ", "--served-model-name",
                                                     "QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ", "--gpu-memory-utilization", "0.71",
                                                     "--max-model-len", "32768", "--allowed-local-media-path", "/data"};
    CHECK(std::vector<std::string>(vllm_args.begin(), vllm_args.begin() + 10) == expected_start);
    CHECK_THAT(args.out, Contains("--media-io-kwargs.video.num_frames") && Contains("--limit-mm-per-prompt.video"));
    CHECK(args.out.find("video.backend") == std::string::npos); // vLLM's own decoder unless one is configured

    const auto docker = host({"--config", config.string(), "vllm-command"});
    REQUIRE(docker.exit_code == 0);
    CHECK_THAT(docker.out, Contains("vllm/vllm-openai:v0.30.0") && Contains("--name vllm-server") &&
                               Contains("-p 8300:8000"));
    CHECK(docker.out.find("latest") == std::string::npos);
    CHECK(docker.out.find('\'') == std::string::npos); // nothing PowerShell 5 would mangle
    CHECK(docker.out.find('{') == std::string::npos);
    // bash splits it into exactly the arguments meant (printf stands in for docker).
    const std::string line = docker.out.substr(0, docker.out.find('\n'));
    const auto split = jarvis::test::run_process({"/bin/bash", "-c", "printf '%s\\n' " + line.substr(std::string("docker ").size())});
    std::vector<std::string> words;
    std::istringstream in(split.out);
    for (std::string w; std::getline(in, w);)
        words.push_back(w);
    CHECK(std::find(words.begin(), words.end(), "type=bind,source=C:\\Users\\Ana Maria\\Jarvis\\input_data,target=/data,readonly") != words.end());
    CHECK(std::vector<std::string>(words.end() - static_cast<long>(vllm_args.size()), words.end()) == vllm_args.get<std::vector<std::string>>());

    const auto compose = host({"--config", config.string(), "vllm-command", "--format", "compose"});
    REQUIRE(compose.exit_code == 0);
    CHECK_THAT(compose.out, Contains("image: vllm/vllm-openai:v0.30.0") && Contains("target: /data") && Contains("read_only: true") &&
                                Contains("- \"--allowed-local-media-path\"") && Contains("driver: nvidia"));
}

TEST_CASE("vllm-command refuses an unpinned image and paths no shell keeps literal", "[host][vllm][errors]")
{
    jarvis::test::TempDir dir;
    const auto latest = dir.path() / "latest.json";
    std::ofstream(latest) << R"({"vllm": {"image": "vllm/vllm-openai:latest"}})";
    auto r = host({"--config", latest.string(), "vllm-command"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("vllm.image") && Contains("pinned"));

    const auto dollar = dir.path() / "dollar.json";
    std::ofstream(dollar) << R"({"input_data": {"host_path": "/srv/$HOME/in", "container_path": "/data"}})";
    r = host({"--config", dollar.string(), "vllm-command"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("no shell keeps literal"));

    const auto decoder = dir.path() / "decoder.json";
    std::ofstream(decoder) << R"({"vllm": {"video_decoder": "pyav"}})";
    r = host({"--config", decoder.string(), "vllm-command"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("vllm.video_decoder") && Contains("'pyav'") && Contains("torchcodec"));

    r = host({"vllm-command", "--format", "helm"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("format 'helm' is not one of docker, compose, args"));
}

TEST_CASE("vllm-command names the video decoder the configuration chooses", "[host][vllm]")
{
    jarvis::test::TempDir dir;
    const auto config = dir.path() / "torchcodec.json";
    std::ofstream(config) << R"({"vllm": {"video_decoder": "torchcodec"}})";
    const auto r = host({"--config", config.string(), "vllm-command", "--format", "args"});
    REQUIRE(r.exit_code == 0);
    const auto args = json::parse(r.out).get<std::vector<std::string>>();
    const auto at = std::find(args.begin(), args.end(), "--media-io-kwargs.video.backend");
    REQUIRE(at != args.end());
    REQUIRE(at + 1 != args.end());
    CHECK(*(at + 1) == "torchcodec");
}

TEST_CASE("vllm-command gives Jarvis's loadout options their meaning and names the keys it ignores", "[host][vllm][jarvis]")
{
    jarvis::test::TempDir dir;
    const auto config = dir.path() / "jarvis.json";
    std::ofstream(config) << R"({"device": "cuda", "ports": {"vllm": 8300}, "vllm": {"check_docker": true},
        "loadout": "vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#nativevideo#stream#vid_lim=2#img_lim=8#ctx=8192"})";
    const auto r = host({"--config", config.string(), "vllm-command", "--format", "args"});
    REQUIRE(r.exit_code == 0);
    const auto args = json::parse(r.out).get<std::vector<std::string>>();
    const auto after = [&](const std::string& flag) {
        const auto it = std::find(args.begin(), args.end(), flag);
        return it == args.end() || it + 1 == args.end() ? std::string() : *(it + 1);
    };
    CHECK(after("--limit-mm-per-prompt.video") == "2");
    CHECK(after("--limit-mm-per-prompt.image") == "8");
    CHECK(after("--max-model-len") == "8192");
    // One warning line names what is not ours; the command still works.
    CHECK_THAT(r.err, Contains("keys jarvis-vision does not use are ignored: device, vllm.check_docker"));
    CHECK(lines(r.err) == 1);
}

TEST_CASE("vram plans weights, KV cache and the vision encoder against the card and suggests what fits", "[host][vram]")
{
    jarvis::test::TempDir dir;
    const auto config = [&](const json& doc) {
        const auto path = dir.path() / "vram.json";
        std::ofstream(path) << doc.dump();
        return path.string();
    };
    const std::string model = "vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ";

    // An RTX 5090 at 32k context: the measured 17.96 GB + 0.915 GB per 10k tokens, plus the encoder, fits.
    auto r = host({"--config", config({{"loadout", model + "#ctx=32768"}, {"gpu", {{"total_gb", 32}}}}), "vram", "--json"});
    REQUIRE(r.exit_code == 0);
    json plan = json::parse(r.out);
    CHECK(plan["fits"] == true);
    CHECK(plan["weights_gb"] == 17.96);
    CHECK(plan["kv_cache_gb"].get<double>() == Approx(3.0).margin(0.01));
    CHECK(plan["video_tokens"] == 12288);
    CHECK(plan["encoder_gb"].get<double>() > 0.5);
    CHECK(plan["peak_gb"].get<double>() + 4 <= 32);
    CHECK(plan["gpu_memory_utilization"] == 0.71);
    CHECK_FALSE(plan.contains("suggestion"));
    CHECK(plan["hardware_decode_gb"] == 0); // frames.hardware_decode is off

    // Decoding on the GPU puts our decoders' surfaces on the card beside vLLM: with a budget that holds one 4K decoder,
    // 20 NV12 surfaces of 3840x2176. A card with room for the reserve and barely more no longer fits.
    const double surfaces_gb = 20 * 3840.0 * 2176 * 1.5 / (1024.0 * 1024 * 1024);
    const double tight_card = plan["peak_gb"].get<double>() + 4 + surfaces_gb / 2;
    r = host({"--config", config({{"loadout", model + "#ctx=32768"}, {"gpu", {{"total_gb", tight_card}}}}), "vram", "--json"});
    CHECK(json::parse(r.out)["fits"] == true);
    const json gpu_decoding = {{"loadout", model + "#ctx=32768"}, {"gpu", {{"total_gb", tight_card}}},
                               {"frames", {{"hardware_decode", "d3d11va"}, {"decode_memory_mb", 110}}}};
    r = host({"--config", config(gpu_decoding), "vram", "--json"});
    REQUIRE(r.exit_code == 0);
    plan = json::parse(r.out);
    CHECK(plan["hardware_decode_gb"].get<double>() == Approx(surfaces_gb));
    CHECK(plan["fits"] == false);
    CHECK_THAT(plan["notes"].dump(), Contains("frames.hardware_decode is \\\"d3d11va\\\"") && Contains("(1 decoder at once"));
    r = host({"--config", config(gpu_decoding), "vram"});
    CHECK_THAT(r.out, Contains("with 4.0 GB reserved for speech and 0.2 GB for our GPU decoding, does NOT fit"));

    // An RTX 4090 with 4 GB kept for speech: too tight at 16k; the suggestion is settings that would fit.
    r = host({"--config", config({{"loadout", model + "#ctx=16384"}}), "vram", "--json"});
    plan = json::parse(r.out);
    CHECK(plan["fits"] == false);
    REQUIRE(plan.contains("suggestion"));
    const int64_t frames = plan["suggestion"]["max_frames"];
    const int64_t pixels = plan["suggestion"]["max_pixels"];
    r = host({"--config", config({{"loadout", model + "#ctx=16384#max_frames=" + std::to_string(frames) + "#max_pixels=" + std::to_string(pixels)}}),
              "vram", "--json"});
    CHECK(json::parse(r.out)["fits"] == true); // following the suggestion fits

    // A model without measured figures is a clear configuration error; the configuration can add them.
    r = host({"--config", config({{"loadout", "vllm://Org/Other-VL"}}), "vram"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("gpu.models has no memory figures for 'Org/Other-VL'"));
    r = host({"--config", config({{"loadout", "vllm://Org/Other-VL#ctx=8192"},
                                  {"gpu", {{"total_gb", 48}, {"models", {{"other-vl", {{"base_vram_gb", 10}, {"kv_cache_gb_per_10k", 1}}}}}}}}),
              "vram", "--json"});
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out)["weights_gb"] == 10);

    // vllm-command takes the planner's share unless the configuration names one.
    r = host({"--config", config({{"loadout", model + "#ctx=32768"}, {"gpu", {{"total_gb", 32}}}, {"vllm", {{"gpu_memory_utilization", 0.8}}}}),
              "vllm-command", "--format", "args"});
    CHECK_THAT(r.out, Contains("\"--gpu-memory-utilization\",\"0.80\""));
}

TEST_CASE("SIGINT cancels a plan while it reads the video: exit 130, one line", "[host][cancel]")
{
    // A server that trickles the video out (16 KB every 50 ms), so the plan is still reading when the signal comes.
    const std::string bytes = jarvis::test::read_file(jarvis::test::sample_video());
    std::atomic<int> chunks_sent{0};
    httplib::Server slow;
    slow.Get("/clip.mp4", [&](const httplib::Request&, httplib::Response& res) {
        res.set_content_provider(bytes.size(), "video/mp4", [&](size_t offset, size_t length, httplib::DataSink& sink) {
            ++chunks_sent;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            return sink.write(bytes.data() + offset, std::min<size_t>(length, 16 * 1024));
        });
    });
    const int port = slow.bind_to_any_port("127.0.0.1");
    std::thread serving([&] { slow.listen_after_bind(); });
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/clip.mp4";

    jarvis::test::ChildProcess plan({jarvis::test::host_binary().string(), "plan", "--video", url, "--prompt", "x"});
    // The plan is reading (its handler installed long before): the server has sent it part of the video.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (chunks_sent < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    REQUIRE(chunks_sent >= 2);
    REQUIRE_FALSE(plan.wait_for(std::chrono::milliseconds(0))); // still reading
    const auto sent = std::chrono::steady_clock::now();
    plan.signal(SIGINT);
    const auto code = plan.wait_for(std::chrono::seconds(30));
    const auto latency = std::chrono::steady_clock::now() - sent;
    slow.stop();
    serving.join();
    REQUIRE(code.has_value());
    CHECK(*code == 130);
    CHECK(plan.err() == "jarvis-host: cancelled\n");
    CHECK(plan.out().empty());
    CHECK(latency < std::chrono::seconds(10)); // prompt: the video would take seconds more to arrive
}

TEST_CASE("on a terminal, plan shows its stages and percentages on one line, then erases it", "[host][progress]")
{
    const std::string video = jarvis::test::sample_video().string();
    // script(1) gives jarvis-host a pseudo-terminal; without one (every other test) stderr stays empty.
    const auto r = run_process({"/usr/bin/script", "-qec",
                                jarvis::test::host_binary().string() + " plan --video " + video + " --prompt x", "/dev/null"});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Contains("\r\033[Kindex") && Contains("\r\033[Kdecode") && Contains("%"));
    // The line is erased before the plan is printed, so the plan starts at the left margin.
    CHECK_THAT(r.out, Contains("\r\033[Kplugin:   frame_slicer"));

    const auto piped = host({"plan", "--video", video, "--prompt", "x"});
    REQUIRE(piped.exit_code == 0);
    CHECK(piped.err.empty());
    CHECK(piped.out.rfind("plugin:   frame_slicer", 0) == 0);
}
