// An http(s) video copied for scanning ends where its server says it does: at its Content-Length, at a chunked
// body's last chunk, or, from a server that gives neither (HTTP/1.0), where it closes the connection.
#include "media/url_download.hpp"

#include "fixtures.hpp"
#include "loopback_listener.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

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
