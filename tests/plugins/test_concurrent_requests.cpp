// One provider serving requests from several host threads at once (run under ThreadSanitizer in CI).
#include "fixtures.hpp"
#include "child_process.hpp"
#include "plugin_loader.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

using nlohmann::json;

TEST_CASE("one native_video provider plans from four threads at once with identical results", "[threads]")
{
    const auto plugin = jarvis::host::load_plugin(jarvis::test::build_plugin_dir() / "native_video.so");
    jarvis::vision::Provider provider(plugin, "{}", [](int32_t, std::string_view) {}, JV_LOG_TRACE);
    const std::string request =
        json{{"video", jarvis::test::sample_video().string()}, {"prompt", "what?"}, {"loadout", "vllm://m#nativevideo"}}.dump();
    const std::string expected = provider.plan(request);

    constexpr int threads = 4;
    constexpr int rounds = 3;
    std::atomic<int> matching{0};
    std::atomic<int> failed{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            for (int r = 0; r < rounds; ++r) {
                try {
                    if (provider.plan(request) == expected)
                        ++matching;
                } catch (...) {
                    ++failed;
                }
            }
        });
    for (auto& t : pool)
        t.join();
    CHECK(failed == 0);
    CHECK(matching == threads * rounds);
}

TEST_CASE("one provider streams answers to several threads, each getting only its own text", "[threads]")
{
    const auto plugin = jarvis::host::load_plugin(jarvis::test::fixture_plugin_dir() / "echo_plugin.so");
    jarvis::vision::Provider provider(plugin, "{}");
    std::atomic<int> correct{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < 4; ++t)
        pool.emplace_back([&, t] {
            const std::string request = json{{"thread", t}, {"a", std::string(200, char('a' + t))}, {"b", t * 7}}.dump();
            std::string streamed;
            jarvis::vision::CallHandlers handlers;
            handlers.on_text = [&](std::string_view s) { streamed += s; };
            provider.ask(request, handlers);
            if (streamed == request)
                ++correct;
        });
    for (auto& t : pool)
        t.join();
    CHECK(correct == 4);
}

namespace {

// Runs `body(t)` for each t below `threads`, each on a thread of its own, all at once; returns what those that threw
// said.
std::vector<std::string> failures_on_threads(int threads, const std::function<void(int)>& body)
{
    std::mutex failures_mutex;
    std::vector<std::string> failures;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            try {
                body(t);
            } catch (const std::exception& e) {
                std::lock_guard lock(failures_mutex);
                failures.emplace_back(e.what());
            }
        });
    for (auto& t : pool)
        t.join();
    return failures;
}

// Ten keyframe intervals: the extractor splits them across its workers. OBS-style references, so that each worker
// also reads slice headers and skips references no target needs.
std::filesystem::path ten_interval_video()
{
    return jarvis::test::make_video("threads_gop10.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x192:rate=20", "-t", "5", "-c:v",
                                                          "libx264", "-preset", "veryfast", "-x264-params",
                                                          "keyint=10:min-keyint=10:scenecut=0:bframes=2:b-pyramid=normal:ref=1"});
}

} // namespace

TEST_CASE("one native_video provider streams four asks at once against the emulator", "[threads][ask]")
{
    jarvis::test::Emulator emulator({"--served-model-name", "m", "--fault-chunk-delay-ms", "1"});
    const auto plugin = jarvis::host::load_plugin(jarvis::test::build_plugin_dir() / "native_video.so");
    jarvis::vision::Provider provider(plugin, json{{"endpoint", {{"base_url", emulator.base_url()}}}}.dump());
    const std::string request = json{{"video", jarvis::test::sample_video().string()},
                                     {"prompt", "what?"},
                                     {"loadout", "vllm://m#nativevideo"},
                                     {"stream", true}}
                                    .dump();
    std::atomic<int> correct{0};
    for (const auto& f : failures_on_threads(4, [&](int) {
             std::string streamed;
             jarvis::vision::CallHandlers handlers;
             handlers.on_text = [&](std::string_view s) { streamed += s; };
             const json result = json::parse(provider.ask(request, handlers));
             const json described = json::parse(streamed);
             if (streamed == result["answer"] && described["videos"][0]["frames"] == 8)
                 ++correct;
         }))
        UNSCOPED_INFO(f);
    CHECK(correct == 4);
}


TEST_CASE("frame_slicer decodes keyframe intervals on worker threads, for two host threads at once", "[threads][frame_slicer]")
{
    const auto video = ten_interval_video();
    const auto plugin = jarvis::host::load_plugin(jarvis::test::build_plugin_dir() / "frame_slicer.so");
    jarvis::vision::Provider provider(plugin, "{}");
    const std::string request = json{{"video", video.string()}, {"prompt", "x"}, {"loadout", "vllm://m#fps=4"}}.dump();
    const json expected = json::parse(provider.plan(request))["media"]["frames"];
    REQUIRE(expected.size() == 20);
    std::atomic<int> same{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < 2; ++t)
        pool.emplace_back([&] {
            jarvis::vision::CallHandlers handlers;
            std::atomic<int> progress_calls{0};
            handlers.on_progress = [&](std::string_view, double) { ++progress_calls; };
            if (json::parse(provider.plan(request, handlers))["media"]["frames"] == expected && progress_calls > 0)
                ++same;
        });
    for (auto& t : pool)
        t.join();
    CHECK(same == 2);
}

TEST_CASE("frame_slicer's images and native_video's frames go out while decoding, for two host threads at once", "[threads][streamed]")
{
    jarvis::test::Emulator emulator({"--served-model-name", "m"});
    const auto video = ten_interval_video();
    struct Case
    {
        std::string plugin;
        std::string loadout;
    };
    for (const Case& c : {Case{"frame_slicer.so", "vllm://m"}, Case{"native_video.so", "vllm://m#nativevideo#delivery=frames"}}) {
        DYNAMIC_SECTION(c.plugin)
        {
            const auto plugin = jarvis::host::load_plugin(jarvis::test::build_plugin_dir() / c.plugin);
            jarvis::vision::Provider provider(plugin, json{{"endpoint", {{"base_url", emulator.base_url()}}}}.dump());
            std::atomic<int> correct{0};
            for (const auto& f : failures_on_threads(2, [&](int t) {
                     const int fps = 2 + 2 * t; // other frames each, so that neither finds the other's in the client's cache
                     const std::string request = json{{"video", video.string()},
                                                      {"prompt", "x"},
                                                      {"loadout", c.loadout + "#max_tokens=4000#fps=" + std::to_string(fps)}}
                                                     .dump();
                     jarvis::vision::CallHandlers handlers;
                     std::atomic<int> decode_progress{0};
                     handlers.on_progress = [&](std::string_view stage, double) { decode_progress += stage == "decode"; };
                     const json result = json::parse(provider.ask(request, handlers));
                     const json seen = json::parse(result["answer"].get<std::string>());
                     const size_t sent = result["media"]["frames"].size();
                     const size_t received = seen["images"].empty() ? seen["videos"][0]["frames"].get<size_t>() : seen["images"].size();
                     if (sent != size_t(5 * fps) || received != sent || result["conversation_media"]["client_cache"] != "miss" ||
                         decode_progress == 0)
                         throw std::runtime_error("sent " + std::to_string(sent) + ", the server saw " + seen.dump());
                     ++correct;
                 }))
                UNSCOPED_INFO(f);
            CHECK(correct == 2);
        }
    }
}
