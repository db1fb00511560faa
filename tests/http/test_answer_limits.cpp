// A server that never ends its answer (a camera's endless stream, a file server mistaken for vLLM) is refused once it
// has sent more than any chat completion or model list is, instead of filling memory until the timeout.
#include "http/chat_client.hpp"
#include "http/server_models.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

using namespace jarvis;
using Catch::Matchers::Contains;

namespace {

// Answers every chat request and the model list with 200 and `piece` over and over, until the client goes away.
class EndlessServer
{
public:
    explicit EndlessServer(std::string piece) : piece_(std::move(piece))
    {
        const auto endless = [this](const httplib::Request&, httplib::Response& res) {
            res.set_chunked_content_provider("application/octet-stream", [this](size_t, httplib::DataSink& sink) {
                if (!sink.write(piece_.data(), piece_.size()))
                    return false;
                sent_ += piece_.size();
                return true;
            });
        };
        server_.Post("/v1/chat/completions", endless);
        server_.Get("/v1/models", endless);
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
    }
    ~EndlessServer()
    {
        server_.stop();
        thread_.join();
    }
    EndlessServer(const EndlessServer&) = delete;
    EndlessServer& operator=(const EndlessServer&) = delete;

    EndpointConfig endpoint() const
    {
        EndpointConfig e;
        e.base_url = "http://127.0.0.1:" + std::to_string(port_) + "/v1";
        e.timeout_s = 600; // what ends the request must be the limit, not this
        return e;
    }
    size_t sent() const { return sent_; }

private:
    std::string piece_;
    std::atomic<size_t> sent_{0};
    httplib::Server server_;
    int port_ = 0;
    std::thread thread_;
};

jv_status error_code_of(const std::function<void()>& call)
{
    try {
        call();
    } catch (const plugin::Error& e) {
        return e.code();
    }
    return JV_OK;
}

} // namespace

TEST_CASE("an answer that never ends is refused after 64 MB, not held until the timeout", "[http][limits]")
{
    EndlessServer server(std::string(1 << 20, 'x'));
    const auto ask = [&] { send_chat(server.endpoint(), std::string(R"({"stream":false})"), false, plugin::Call(nullptr)); };
    CHECK_THROWS_WITH(ask(), Contains("sent more than 64 MB of answer (HTTP 200)") && Contains("is endpoint.base_url a vLLM server?"));
    CHECK(error_code_of(ask) == JV_E_REFUSED);
    CHECK(server.sent() < size_t{2} * (size_t{80} << 20)); // two requests, each stopped soon after the limit
}

TEST_CASE("a stream whose event never ends is refused after 16 MB, one whose answer never ends after 16 MB of text", "[http][limits]")
{
    SECTION("one line without its end")
    {
        EndlessServer server(std::string(1 << 20, 'x'));
        CHECK_THROWS_WITH(send_chat(server.endpoint(), std::string(R"({"stream":true})"), true, plugin::Call(nullptr)),
                          Contains("sent more than 16 MB without ending an event"));
        CHECK(server.sent() < (size_t{32} << 20));
    }
    SECTION("well-formed events that never end the answer")
    {
        EndlessServer server("data: {\"choices\":[{\"delta\":{\"content\":\"" + std::string(64 << 10, 'z') + "\"}}]}\n\n");
        CHECK_THROWS_WITH(send_chat(server.endpoint(), std::string(R"({"stream":true})"), true, plugin::Call(nullptr)),
                          Contains("sent more than 16 MB of answer text"));
    }
    SECTION("data lines without the blank line that ends the event")
    {
        EndlessServer server("data: " + std::string(64 << 10, 'y') + "\n");
        CHECK_THROWS_WITH(send_chat(server.endpoint(), std::string(R"({"stream":true})"), true, plugin::Call(nullptr)),
                          Contains("sent more than 16 MB without ending an event"));
    }
}

TEST_CASE("a model list that never ends is refused after 16 MB", "[http][limits]")
{
    EndlessServer server(std::string(1 << 20, 'x'));
    CHECK_THROWS_WITH(fetch_model_ids(server.endpoint()), Contains("sent more than 16 MB for its model list"));
    CHECK(server.sent() < (size_t{32} << 20));
}
