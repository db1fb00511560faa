// An error event in the middle of a streamed answer: vLLM names its status as an integer, other OpenAI-compatible
// servers (proxies) as a string; whatever a server puts there, the answer fails as refused, with a status. And
// answers of other shapes than a chat completion's are read without an exception.
#include "http/chat_answer_reading.hpp"
#include "http/chat_client.hpp"

#include "recording_server.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace jarvis;
using Catch::Matchers::Contains;

namespace {

// A chat server on loopback whose first answer is `body` (HTTP 200).
EndpointConfig answering_with(test::RecordingServer& server, std::string body)
{
    server.reply_first_with(200, std::move(body));
    EndpointConfig e;
    e.base_url = server.base_url();
    return e;
}

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
    // One piece of text, then an error event whose code is `code` (JSON).
    const std::string events = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"The clip\"}}]}\n\n"
                               "data: {\"error\":{\"object\":\"error\",\"message\":\"engine died\",\"code\":" + code + "}}\n\n"
                               "data: [DONE]\n\n";
    test::RecordingServer server;
    const EndpointConfig endpoint = answering_with(server, events);
    CAPTURE(code);
    try {
        send_chat(endpoint, std::string(R"({"stream":true})"), true, plugin::Call(nullptr));
        FAIL("the error event did not fail the answer");
    } catch (const plugin::Error& e) {
        CHECK(e.code() == JV_E_REFUSED);
        CHECK_THAT(e.what(), Contains("the server failed mid-answer") && Contains("engine died"));
        CHECK(e.http_status() == status);
    }
}

TEST_CASE("answers of other shapes than a chat completion's read as saying nothing, never as an exception", "[http][stream][errors]")
{
    for (const char* event : {R"({"choices":[1]})", R"({"choices":[{"delta":5}]})", R"({"choices":{"delta":{}}})",
                              R"({"choices":[{"delta":{"content":7},"finish_reason":3}]})", R"({"usage":[]})", "[1,2]", "not json", ""}) {
        CAPTURE(event);
        const StreamEvent read = read_stream_event(event);
        CHECK_FALSE(read.done);
        CHECK_FALSE(read.error_status);
        CHECK(read.content.empty());
        CHECK_FALSE(read.finish_reason);
        CHECK(read.usage.is_null());
    }
    const StreamEvent piece = read_stream_event(R"({"choices":[{"delta":{"content":"Zażółć"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3}})");
    CHECK(piece.content == "Zażółć");
    CHECK(piece.finish_reason == "stop");
    CHECK(piece.usage["prompt_tokens"] == 3);
    CHECK(read_stream_event("[DONE]").done);

    for (const char* body : {R"({"choices":[1]})", R"({"choices":[]})", R"({"choices":"x"})", "[]", "<html>"}) {
        CAPTURE(body);
        CHECK_FALSE(read_whole_answer(body));
    }
    const auto whole = read_whole_answer(R"({"choices":[{"message":{"content":"ok"},"finish_reason":"length"}],"usage":{"completion_tokens":1}})");
    REQUIRE(whole);
    CHECK(whole->text == "ok");
    CHECK(whole->finish_reason == "length");
    CHECK(whole->usage["completion_tokens"] == 1);
    // A choice without a message is a completion with no text, as before.
    CHECK(read_whole_answer(R"({"choices":[{"message":null}]})")->text.empty());
}

TEST_CASE("a whole answer whose choice is not an object is refused as no chat completion", "[http][errors]")
{
    test::RecordingServer server;
    const EndpointConfig endpoint = answering_with(server, R"({"choices":[1]})");
    try {
        send_chat(endpoint, std::string(R"({"stream":false})"), false, plugin::Call(nullptr));
        FAIL("the answer was taken");
    } catch (const plugin::Error& e) {
        CHECK(e.code() == JV_E_REFUSED);
        CHECK_THAT(e.what(), Contains("answered HTTP 200 without a chat completion"));
    }
}
