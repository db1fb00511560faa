// jarvis-host as a user runs it: a real process, its stdout, stderr and exit code.
#include "fixtures.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

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
