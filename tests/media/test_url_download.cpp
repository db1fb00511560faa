// An http(s) video copied for scanning ends where its server says it does: at its Content-Length, at a chunked
// body's last chunk, or, from a server that gives neither (HTTP/1.0), where it closes the connection. A live stream
// has no end: it is refused at once instead of copied for ever.
#include "media/media_error.hpp"
#include "media/media_source.hpp"
#include "media/url_download.hpp"

#include "fixtures.hpp"
#include "loopback_listener.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

namespace {

// Answers every request with `body` and no length, then closes the connection: the end of the body.
class ClosingServer
{
public:
    explicit ClosingServer(std::string body) : body_(std::move(body)) { thread_ = std::thread([this] { serve(); }); }
    ~ClosingServer()
    {
        listener_.stop();
        thread_.join();
    }
    ClosingServer(const ClosingServer&) = delete;
    ClosingServer& operator=(const ClosingServer&) = delete;

    std::string url() const { return listener_.url("/clip.mp4"); }

private:
    void serve()
    {
        for (int connection; (connection = listener_.accept()) >= 0; ::close(connection)) {
            const bool head = jarvis::test::read_request_head(connection).rfind("HEAD ", 0) == 0;
            jarvis::test::send_all(connection, "HTTP/1.0 200 OK\r\nContent-Type: video/mp4\r\n\r\n" + (head ? std::string() : body_));
        }
    }

    std::string body_;
    jarvis::test::LoopbackListener listener_;
    std::thread thread_;
};

// A live broadcast: every connection gets `loop` over and over, with no length, until it goes away.
class LiveServer
{
public:
    explicit LiveServer(std::string loop) : loop_(std::move(loop)) { thread_ = std::thread([this] { accept_all(); }); }
    ~LiveServer()
    {
        listener_.stop();
        thread_.join();
        {
            std::lock_guard lock(mutex_);
            for (const int c : connections_)
                ::shutdown(c, SHUT_RDWR); // ends a send waiting on a reader that left
        }
        for (auto& t : streams_)
            t.join();
    }
    LiveServer(const LiveServer&) = delete;
    LiveServer& operator=(const LiveServer&) = delete;

    std::string url() const { return listener_.url("/live.ts"); }
    size_t sent() const { return sent_; }

private:
    void accept_all()
    {
        for (int connection; (connection = listener_.accept()) >= 0;) {
            std::lock_guard lock(mutex_);
            connections_.push_back(connection);
            streams_.emplace_back([this, connection] {
                jarvis::test::read_request_head(connection);
                if (jarvis::test::send_all(connection, "HTTP/1.0 200 OK\r\nContent-Type: video/mp2t\r\n\r\n"))
                    while (jarvis::test::send_all(connection, loop_))
                        sent_ += loop_.size();
                ::close(connection);
            });
        }
    }

    std::string loop_;
    std::atomic<size_t> sent_{0};
    jarvis::test::LoopbackListener listener_;
    std::thread thread_;
    std::mutex mutex_;
    std::vector<int> connections_;
    std::vector<std::thread> streams_;
};

std::string file_bytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

} // namespace

TEST_CASE("a server that ends its body by closing the connection gives the whole video", "[media][url]")
{
    const auto video = jarvis::test::make_video("closing_server.mp4", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10", "-t", "2",
                                                                        "-c:v", "libx264", "-pix_fmt", "yuv420p"});
    const std::string bytes = file_bytes(video.string());
    ClosingServer server(bytes);
    std::string why_not;
    const auto copy = jarvis::download_copy(server.url(), nullptr, nullptr, 10.0, why_not);
    INFO(why_not);
    REQUIRE(copy);
    CHECK(file_bytes(copy->path()) == bytes);
}

TEST_CASE("a live stream, with neither a size nor a duration, is refused at once, naming it", "[media][url]")
{
    const auto ten_seconds = jarvis::test::make_video("live_loop.ts", {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "10",
                                                                        "-c:v", "libx264", "-preset", "ultrafast", "-f", "mpegts"});
    LiveServer server(file_bytes(ten_seconds.string()));
    try {
        jarvis::MediaSource::open(server.url(), {}, 10.0);
        FAIL("a live stream opened as a video");
    } catch (const jarvis::MediaError& e) {
        CHECK_THAT(e.what(), Catch::Matchers::Contains(server.url()) && Catch::Matchers::Contains("it is a live stream"));
    }
    CHECK(server.sent() < (size_t{64} << 20)); // what probing read, not the stream copied
}
