// jarvis-host ask against the vlm-emulator on loopback: answers, streaming, every error path, retries, timeouts and
// cancellation, each through real processes.
#include "child_process.hpp"
#include "fixtures.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

using Catch::Matchers::Contains;
using jarvis::test::Emulator;
using nlohmann::json;

namespace {

const char* const model = "QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ";

std::vector<std::string> ask_args(const Emulator& emulator, std::vector<std::string> extra = {})
{
    std::vector<std::string> args = {jarvis::test::host_binary().string(), "--endpoint", emulator.base_url(),
                                     "--loadout", std::string("vllm://") + model + "#nativevideo#delivery=data", "ask",
                                     "--video", jarvis::test::sample_video().string(), "--prompt", "What happens?"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

jarvis::test::ProcessResult ask(const Emulator& emulator, std::vector<std::string> extra = {})
{
    return jarvis::test::run_process(ask_args(emulator, std::move(extra)), std::chrono::seconds(60));
}

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

} // namespace

TEST_CASE("ask returns what the server made of the video, with usage and timings", "[ask]")
{
    Emulator emulator;
    const auto r = ask(emulator, {"--json"});
    REQUIRE(r.exit_code == 0);
    const json result = json::parse(r.out);
    const json answer = json::parse(result["answer"].get<std::string>());
    REQUIRE(answer["videos"].size() == 1);
    const json& video = answer["videos"][0];
    // The server got the very file: same bytes, same hash, and decoded all of it.
    CHECK(video["sha256"] == jarvis::test::sha256_hex_of_file(jarvis::test::sample_video()));
    CHECK(video["bytes"] == std::filesystem::file_size(jarvis::test::sample_video()));
    CHECK(video["frames"] == 8); // 4 s at 2 fps
    CHECK(video["timestamps"] == json::array({0.3, 1.4, 2.5, 3.7}));
    CHECK(video["width"] == 640);
    CHECK(result["usage"]["prompt_tokens"].get<int>() > 800); // the video arrived: it costs tokens
    CHECK(result["finish_reason"] == "stop");
    CHECK(result["attempts"] == 1);
    CHECK(result["timings"]["total_s"].get<double>() >= result["timings"]["media_s"].get<double>());

    const auto plain = ask(emulator);
    REQUIRE(plain.exit_code == 0);
    CHECK(plain.out == result["answer"].get<std::string>() + "\n");
}

TEST_CASE("streaming prints the answer as it arrives and JSON lines carry the deltas then the result", "[ask][stream]")
{
    // A long answer in several scripts, streamed slowly, each event cut mid-character by the emulator.
    Emulator emulator({"--answer-padding-bytes", "3000", "--fault-chunk-delay-ms", "2"});
    const std::string roomy = std::string("vllm://") + model + "#nativevideo#delivery=data#max_tokens=4096";
    const auto r = ask(emulator, {"--stream", "--json", "--loadout", roomy});
    REQUIRE(r.exit_code == 0);
    std::vector<json> events;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);)
        events.push_back(json::parse(line));
    REQUIRE(events.size() > 100);
    std::string streamed;
    for (size_t i = 0; i + 1 < events.size(); ++i)
        streamed += events[i].at("delta").get<std::string>();
    const json& result = events.back();
    CHECK(streamed == result["answer"].get<std::string>());
    const json answer = json::parse(streamed); // whole characters only, or this would throw
    CHECK(answer["padding"].get<std::string>().size() > 2900);
    CHECK_THAT(answer["padding"].get<std::string>(), Contains("球在滚动 ✓"));
    CHECK(result["usage"]["completion_tokens"].get<int>() > 700); // include_usage was asked for and returned
    CHECK(result["finish_reason"] == "stop");
    CHECK(result["timings"]["first_token_s"].get<double>() < result["timings"]["total_s"].get<double>());

    const auto text = ask(emulator, {"--stream", "--loadout", roomy});
    REQUIRE(text.exit_code == 0);
    CHECK(text.out == result["answer"].get<std::string>() + "\n");

    // With the default 512 answer tokens the server stops early and says so.
    const auto cut = ask(emulator, {"--json"});
    REQUIRE(cut.exit_code == 0);
    CHECK(json::parse(cut.out)["finish_reason"] == "length");
    CHECK(json::parse(cut.out)["answer"].get<std::string>().size() <= 512 * 4);
}

TEST_CASE("the server's refusals reach the user verbatim with exit 5", "[ask][errors]")
{
    const std::string message = "This model's maximum context length is 8192 tokens.";
    const json nested = {{"error", {{"message", message}, {"type", "BadRequestError"}, {"param", nullptr}, {"code", 400}}}};
    const json flat = {{"object", "error"}, {"message", message}, {"type", "BadRequestError"}, {"param", nullptr}, {"code", 400}};
    for (const json& body : {nested, flat}) {
        Emulator emulator({"--fault-status", "400", "--fault-body", body.dump()});
        const auto r = ask(emulator, {"--json"});
        CHECK(r.exit_code == 5);
        CHECK_THAT(r.err, Contains("(HTTP 400): " + message));
        CHECK(lines(r.err) == 1);
        CHECK(json::parse(r.out)["error"]["http_status"] == 400);
    }
    {
        Emulator proxy({"--fault-status", "502", "--fault-body", "<html><body><h1>502 Bad Gateway</h1></body></html>"});
        const auto r = ask(proxy);
        CHECK(r.exit_code == 5);
        CHECK_THAT(r.err, Contains("HTTP 502") && Contains("502 Bad Gateway"));
    }
    {
        Emulator small({"--max-model-len", "600"});
        const auto r = ask(small);
        CHECK(r.exit_code == 5);
        CHECK_THAT(r.err, Contains("The decoder prompt (length") && Contains("maximum model length of 600"));
    }
    {
        // A server that takes no video: native_video answers through images and says so.
        Emulator no_video({"--limit-mm-per-prompt", R"({"video": 0})"});
        // Room for the whole description of 8 images (their SHA-256 digits cost a token each).
        std::vector<std::string> args = ask_args(no_video, {"--json"});
        args[4] += "#max_tokens=4096";
        const auto r = jarvis::test::run_process(args, std::chrono::seconds(60));
        REQUIRE(r.exit_code == 0);
        const json result = json::parse(r.out);
        CHECK(result["fallback"]["to"] == "images");
        CHECK_THAT(result["fallback"]["reason"].get<std::string>(), Contains("At most 0 video(s) may be provided in one prompt."));
        CHECK(json::parse(result["answer"].get<std::string>())["images"].size() == 8);
    }
    {
        Emulator other({"--served-model-name", "someone/else"});
        const auto r = ask(other);
        CHECK(r.exit_code == 5);
        CHECK_THAT(r.err, Contains(std::string("The model `") + model + "` does not exist."));
    }
}

TEST_CASE("failures in the middle of a stream are told apart", "[ask][errors][stream]")
{
    {
        Emulator failing({"--fault-error-after-chunks", "2"});
        const auto r = ask(failing, {"--stream"});
        CHECK(r.exit_code == 5);
        CHECK_THAT(r.err, Contains("failed mid-answer: EngineCore encountered an issue"));
        CHECK_FALSE(r.out.empty()); // what had arrived was already printed
    }
    {
        Emulator dropping({"--fault-drop-after-chunks", "3"});
        const auto r = ask(dropping, {"--stream"});
        CHECK(r.exit_code == 4);
        CHECK_THAT(r.err, Contains("lost mid-answer"));
    }
}

TEST_CASE("503 before any answer is retried and a server that keeps failing is reported", "[ask][retry]")
{
    {
        Emulator starting({"--fault-fail-first", "2"});
        const auto r = ask(starting, {"--json"});
        REQUIRE(r.exit_code == 0);
        CHECK(json::parse(r.out)["attempts"] == 3);
    }
    {
        Emulator down({"--fault-fail-first", "100"});
        const auto r = ask(down);
        CHECK(r.exit_code == 5);
        CHECK_THAT(r.err, Contains("HTTP 503") && Contains("Service Unavailable"));
    }
}

TEST_CASE("a server slower than the timeout exits 6", "[ask][timeout]")
{
    // The server would answer after a minute: exit 6 can only come from the 1 s timeout, however busy the machine
    // (a bound on the wall time here failed under load without saying anything about the timeout).
    Emulator slow({"--fault-first-byte-delay-ms", "60000"});
    jarvis::test::TempDir dir;
    const auto config = dir.path() / "short.json";
    std::ofstream(config) << R"({"endpoint": {"timeout_s": 1}})";
    const auto r = ask(slow, {"--config", config.string()});
    CHECK(r.exit_code == 6);
    CHECK_THAT(r.err, Contains("timed out"));
}

TEST_CASE("SIGINT cancels a waiting ask: exit 130 promptly, connection closed", "[ask][cancel]")
{
    Emulator hanging({"--fault-hang"});
    jarvis::test::ChildProcess host(ask_args(hanging));
    REQUIRE(hanging.wait_for_log("chat request 1 received")); // the request is on the server, and waiting
    REQUIRE_FALSE(host.wait_for(std::chrono::milliseconds(0)));
    const auto sent = std::chrono::steady_clock::now();
    host.signal(SIGINT);
    const auto code = host.wait_for(std::chrono::seconds(30));
    const auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
    REQUIRE(code.has_value());
    CHECK(*code == 130);
    CHECK_THAT(host.err(), Contains("cancelled"));
    WARN("SIGINT to exit: " << latency.count() << " ms");
    CHECK(latency < std::chrono::seconds(10)); // prompt, not the 300 s timeout; the 5 ms measured is no test's business
}

TEST_CASE("cancelling a streamed answer closes the connection, which is how the server learns to stop", "[ask][cancel]")
{
    Emulator slow({"--fault-chunk-delay-ms", "100", "--answer-padding-bytes", "2000"});
    jarvis::test::ChildProcess host(ask_args(slow, {"--stream"}));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (host.out().empty() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE_FALSE(host.out().empty()); // the answer has started
    host.signal(SIGINT);
    REQUIRE(host.wait_for(std::chrono::seconds(30)) == std::optional<int>(130));
    CHECK(slow.wait_for_log("the client closed the stream after"));
}

TEST_CASE("plan's prompt token estimate is what the server counts, for prompts in many scripts", "[ask][tokens]")
{
    Emulator emulator;
    // The server counts the rendered chat template with Qwen3's tokenizer (checked against the reference in the
    // tokenizer tests) and each image or video as Qwen3-VL's processor expands it.
    const std::vector<std::string> prompts = {"What happens?", "Co się dzieje w tym nagraniu? Opisz krok po kroku.",
                                              "视频里发生了什么？", "List frames 1, 2, 3 and 12.5 s: what moved?\n\n  "};
    const std::vector<std::string> loadouts = {std::string("vllm://") + model + "#nativevideo#delivery=data",
                                               std::string("vllm://") + model + "#nativevideo#delivery=frames#fps=1",
                                               std::string("vllm://") + model + "#fps=1"};
    for (const auto& loadout : loadouts)
        for (const auto& prompt : prompts) {
            INFO(loadout << " / " << prompt);
            const std::vector<std::string> common = {"--endpoint", emulator.base_url(), "--loadout", loadout};
            auto command = [&](const char* verb) {
                std::vector<std::string> args = {jarvis::test::host_binary().string()};
                args.insert(args.end(), common.begin(), common.end());
                args.insert(args.end(), {verb, "--video", jarvis::test::sample_video().string(), "--prompt", prompt, "--json"});
                return jarvis::test::run_process(args, std::chrono::seconds(60));
            };
            const auto planned = command("plan");
            REQUIRE(planned.exit_code == 0);
            const auto asked = command("ask");
            REQUIRE(asked.exit_code == 0);
            const int64_t estimate = json::parse(planned.out)["estimate"]["prompt_tokens"].get<int64_t>();
            const int64_t counted = json::parse(asked.out)["usage"]["prompt_tokens"].get<int64_t>();
            CHECK(estimate == counted);
        }
}
