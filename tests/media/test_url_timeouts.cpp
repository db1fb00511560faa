// Opening a URL, whether the first time or again for a decode worker, gives up on a server that stops answering.
#include "media/media_error.hpp"
#include "media/media_source.hpp"

#include "loopback_listener.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;

// A server that listens and never answers: connecting succeeds (the kernel queues the connection), reading waits.
struct SilentServer
{
    jarvis::test::LoopbackListener listener;
    std::string url() const { return listener.url("/clip.mp4"); }
};

} // namespace

TEST_CASE("every open of a URL gives up on a silent server after its I/O timeout", "[media][url]")
{
    SilentServer server;
    // A safety net, so that a missing timeout fails the test (as "cancelled" after a minute) instead of hanging it.
    const auto started = Clock::now();
    const auto after_a_minute = [started] { return Clock::now() - started > std::chrono::seconds(60); };

    auto fails_by_timeout = [&](auto&& open) {
        const auto start = Clock::now();
        try {
            open();
            FAIL("opening a silent server succeeded");
        } catch (const jarvis::MediaError& e) {
            CHECK_THAT(e.what(), Catch::Matchers::Contains(server.url()));
        } catch (const std::exception& e) {
            FAIL("not a media error: " << e.what()); // "cancelled": the safety net ended a wait without timeout
        }
        CHECK(Clock::now() - start < std::chrono::seconds(30)); // the timeout is 1 s; the net is at 60 s
    };
    fails_by_timeout([&] { jarvis::MediaSource::open(server.url(), after_a_minute, 1.0); });
    fails_by_timeout([&] { jarvis::MediaSource::open_for_decoding(server.url(), 0, after_a_minute, 1.0); });
}
