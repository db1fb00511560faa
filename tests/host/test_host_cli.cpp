// jarvis-host as a user runs it: a real process, its stdout, stderr and exit code.
#include "fixtures.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

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
            CHECK(p["abi"] == "1.0");
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
    std::ofstream(unknown_key) << R"({"endpoint": {"base_ur": "http://x"}})";

    struct Case
    {
        std::vector<std::string> args;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {{"--config", (dir.path() / "missing.json").string(), "plugins"}, "missing.json"},
        {{"--config", bad_json.string(), "plugins"}, "bad.json': not valid JSON"},
        {{"--config", unknown_key.string(), "plugins"}, "endpoint.base_ur: unknown key"},
        {{"--loadout", "vllm://m#colour=red", "plugins"}, "unknown key 'colour'"},
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
                                  {"input_data", {{"host_path", "C:\\Users\\Ana Maria\\Jarvis\\input_data"}, {"container_path", "/data"}}}}
                                 .dump();

    const auto args = host({"--config", config.string(), "vllm-command", "--format", "args"});
    REQUIRE(args.exit_code == 0);
    const json vllm_args = json::parse(args.out);
    const std::vector<std::string> expected_start = {"--model", "QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ", "--served-model-name",
                                                     "QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ", "--gpu-memory-utilization", "0.85",
                                                     "--max-model-len", "32768", "--allowed-local-media-path", "/data"};
    CHECK(std::vector<std::string>(vllm_args.begin(), vllm_args.begin() + 10) == expected_start);
    CHECK_THAT(args.out, Contains("--media-io-kwargs.video.num_frames") && Contains("--limit-mm-per-prompt.video"));

    const auto docker = host({"--config", config.string(), "vllm-command"});
    REQUIRE(docker.exit_code == 0);
    CHECK_THAT(docker.out, Contains("vllm/vllm-openai:v0.30.0") && Contains("--name jarvis-vllm-quanttrio-qwen3-vl-30b-a3b-instruct-awq") &&
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

    r = host({"vllm-command", "--format", "helm"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("--format 'helm'"));
}
