// An error event in the middle of a streamed answer: vLLM names its status as an integer, other OpenAI-compatible
// servers (proxies) as a string; whatever a server puts there, the answer fails as refused, with a status.
#include "http/chat_client.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <string>
#include <thread>

using namespace jarvis;
using Catch::Matchers::Contains;

namespace {

// Answers every chat request with a stream: one piece of text, then an error event whose code is `code` (JSON).
class FailingStreamServer
{
public:
    explicit FailingStreamServer(const std::string& code)
    {
        const std::string events = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"The clip\"}}]}\n\n"
                                   "data: {\"error\":{\"object\":\"error\",\"message\":\"engine died\",\"code\":" + code + "}}\n\n"
                                   "data: [DONE]\n\n";
        server_.Post("/v1/chat/completions", [events](const httplib::Request&, httplib::Response& res) {
            res.set_content(events, "text/event-stream");
        });
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
    }
    ~FailingStreamServer()
    {
        server_.stop();
        thread_.join();
    }
    FailingStreamServer(const FailingStreamServer&) = delete;
    FailingStreamServer& operator=(const FailingStreamServer&) = delete;

    EndpointConfig endpoint() const
    {
        EndpointConfig e;
        e.base_url = "http://127.0.0.1:" + std::to_string(port_) + "/v1";
        return e;
    }

private:
    httplib::Server server_;
    int port_ = 0;
    std::thread thread_;
};

} // namespace

TEST_CASE("an error event mid-answer fails as refused with the status it names, whatever its code's type", "[http][stream][errors]")
{
    const auto [code, status] = GENERATE(table<std::string, int>({
        {"400", 400},          // vLLM
        {"\"429\"", 429},      // a proxy's string
        {"-1e106", 500},       // a float beyond any integer: no status
        {"1e300", 500},
        {"18446744073709551615", 500},
        {"\"busy\"", 500},
        {"null", 500},
        {"{\"nested\":1}", 500},
        {"99", 500},           // not an HTTP status
    }));
    FailingStreamServer server(code);
    CAPTURE(code);
    try {
        send_chat(server.endpoint(), std::string(R"({"stream":true})"), true, plugin::Call(nullptr));
        FAIL("the error event did not fail the answer");
    } catch (const plugin::Error& e) {
        CHECK(e.code() == JV_E_REFUSED);
        CHECK_THAT(e.what(), Contains("the server failed mid-answer") && Contains("engine died"));
        CHECK(e.http_status() == status);
    }
}
