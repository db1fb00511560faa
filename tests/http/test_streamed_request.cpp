// A request body sent while it is still being written (native_video's frames go out as they are decoded): against a
// real HTTP server on loopback that records what arrives, chunk by chunk.
#include "core/call_relay.hpp"
#include "http/chat_client.hpp"
#include "http/streamed_body.hpp"
#include "recording_server.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

using namespace jarvis;
using jarvis::test::RecordingServer;
using Catch::Matchers::Contains;

namespace {

EndpointConfig endpoint(const RecordingServer& server)
{
    EndpointConfig e;
    e.base_url = server.base_url();
    e.timeout_s = 60;
    return e;
}

// Distinct chunks of varied sizes (a few bytes to 200 KB), so that an order or a boundary wrong shows.
std::string chunk(int i)
{
    std::string c = "<" + std::to_string(i) + ">";
    c.append(static_cast<size_t>((i * 7919) % 200000), static_cast<char>('a' + i % 26));
    return c;
}

// Chunks 0 .. count-1, one after another.
std::string chunks(int count)
{
    std::string all;
    for (int i = 0; i < count; ++i)
        all += chunk(i);
    return all;
}

} // namespace

TEST_CASE("a body written while it is sent arrives whole and in order", "[http][streamed]")
{
    RecordingServer server;
    StreamedBody body;
    const std::string expected = chunks(40);
    // Each chunk is written only once the server holds every earlier one: the request is under way while it grows.
    std::thread writer([&] {
        size_t written = 0;
        for (int i = 0; i < 40; ++i) {
            // (Catch's assertions belong to the test's thread: a failure here fails the request instead.)
            if (written > 0 && !server.wait_for_body(written)) {
                body.fail(std::make_exception_ptr(std::runtime_error("the server never received the earlier chunks")));
                return;
            }
            const std::string c = chunk(i);
            written += c.size();
            body.append(c);
        }
        body.finish();
    });
    int polls = 0;
    const ChatAnswer answer = send_chat(endpoint(server), body, false, plugin::Call(nullptr), [&] { ++polls; });
    writer.join();
    CHECK(answer.text == "ok");
    CHECK(answer.attempts == 1);
    CHECK(polls > 0);
    const auto requests = server.wait_for_requests(1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].whole);
    CHECK(requests[0].transfer_encoding == "chunked");
    CHECK(requests[0].body.size() == expected.size());
    CHECK(requests[0].body == expected);
}

TEST_CASE("a body that fails midway aborts its request, which the server never takes for whole", "[http][streamed][failure]")
{
    RecordingServer server;
    StreamedBody body;
    const std::string sent = chunks(5);
    std::thread writer([&] {
        body.append(sent);
        if (!server.wait_for_body(sent.size()))
            return body.fail(std::make_exception_ptr(std::runtime_error("the server never received the first chunks")));
        body.fail(std::make_exception_ptr(std::runtime_error("cannot use video 'clip.mp4': decoding failed at 3.20 s")));
    });
    CHECK_THROWS_WITH(send_chat(endpoint(server), body, false, plugin::Call(nullptr), {}), Contains("decoding failed at 3.20 s"));
    writer.join();
    const auto requests = server.wait_for_requests(1);
    REQUIRE(requests.size() == 1);
    CHECK_FALSE(requests[0].whole);
    CHECK(requests[0].body == sent); // what came, came in order; the rest never did
}

TEST_CASE("a streamed request tried again sends the same body from its start", "[http][streamed][retry]")
{
    RecordingServer server;
    server.reply_with({503});
    StreamedBody body;
    const std::string expected = chunks(6);
    for (int i = 0; i < 6; ++i)
        body.append(chunk(i));
    body.finish();
    const ChatAnswer answer = send_chat(endpoint(server), body, false, plugin::Call(nullptr), {});
    CHECK(answer.text == "ok");
    CHECK(answer.attempts == 2);
    const auto requests = server.wait_for_requests(2);
    REQUIRE(requests.size() == 2);
    for (const auto& r : requests) {
        CHECK(r.whole);
        CHECK(r.body == expected);
    }
}

TEST_CASE("cancelling a request whose body waits for its writer ends it", "[http][streamed][cancel]")
{
    RecordingServer server;
    StreamedBody body;
    body.append(chunk(1));
    std::atomic<bool> cancelled{false};
    jv_callbacks callbacks{};
    callbacks.struct_size = sizeof callbacks;
    callbacks.user_data = &cancelled;
    callbacks.is_cancelled = [](void* flag) { return static_cast<std::atomic<bool>*>(flag)->load() ? 1 : 0; };
    const plugin::Call call(&callbacks);
    bool seen = false;
    std::thread canceller([&] {
        seen = server.wait_for_body(chunk(1).size());
        cancelled = true;
    });
    try {
        send_chat(endpoint(server), body, false, call, {});
        FAIL("the request was not cancelled");
    } catch (const plugin::Error& e) {
        CHECK(e.code() == JV_E_CANCELLED);
    }
    canceller.join();
    CHECK(seen);
    const auto requests = server.wait_for_requests(1);
    REQUIRE(requests.size() == 1);
    CHECK_FALSE(requests[0].whole);
}

TEST_CASE("a large body goes at once, without asking the server first", "[http][expect]")
{
    // libcurl asks first (Expect: 100-continue) for a body over 1 MB, then waits up to a second for a server that
    // does not answer that.
    RecordingServer server;
    const std::string body(3 << 20, 'x');
    const ChatAnswer answer = send_chat(endpoint(server), body, false, plugin::Call(nullptr));
    CHECK(answer.text == "ok");
    const auto requests = server.wait_for_requests(1);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].body.size() == body.size());
    CHECK(requests[0].expect.empty());
}

TEST_CASE("a relay hands a worker's progress to the host and the host's cancellation to the worker", "[http][relay]")
{
    struct Host
    {
        std::vector<std::pair<std::string, double>> progress;
        bool cancelled = false;
    } host;
    jv_callbacks callbacks{};
    callbacks.struct_size = sizeof callbacks;
    callbacks.user_data = &host;
    callbacks.on_progress = [](void* h, const char* stage, double f) { static_cast<Host*>(h)->progress.emplace_back(stage, f); };
    callbacks.is_cancelled = [](void* h) { return static_cast<Host*>(h)->cancelled ? 1 : 0; };
    const plugin::Call host_call(&callbacks);

    CallRelay relay;
    std::thread worker([&] {
        relay.worker_call().progress("decode", 0.25);
        relay.worker_call().progress("decode", 0.5);
    });
    worker.join();
    CHECK(host.progress.empty()); // nothing reaches the host from the worker's thread
    relay.forward(host_call);
    REQUIRE(host.progress.size() == 1); // the latest
    CHECK(host.progress[0] == std::make_pair(std::string("decode"), 0.5));
    CHECK_FALSE(relay.worker_call().cancelled());
    host.cancelled = true;
    relay.forward(host_call);
    CHECK(relay.worker_call().cancelled());
}
