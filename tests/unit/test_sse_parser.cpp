#include "http/sse_parser.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using jarvis::SseParser;
using jarvis::Utf8Joiner;

TEST_CASE("server-sent events are reassembled however the bytes are cut", "[sse]")
{
    const std::string stream = "data: {\"a\":1}\n\n: a comment\n\ndata: {\"b\":\"ü\"}\r\n\r\nevent: x\ndata: one\ndata: two\n\ndata: [DONE]\n\n";
    std::vector<std::string> whole;
    SseParser reference([&](std::string_view d) { whole.emplace_back(d); });
    reference.feed(stream);
    REQUIRE(whole == std::vector<std::string>{"{\"a\":1}", "{\"b\":\"ü\"}", "one\ntwo", "[DONE]"});

    // Every way of cutting the stream in two, and byte by byte, gives the same events.
    for (size_t cut = 0; cut <= stream.size(); ++cut) {
        std::vector<std::string> events;
        SseParser parser([&](std::string_view d) { events.emplace_back(d); });
        parser.feed(std::string_view(stream).substr(0, cut));
        parser.feed(std::string_view(stream).substr(cut));
        INFO("cut at " << cut);
        CHECK(events == whole);
    }
    std::vector<std::string> bytewise;
    SseParser parser([&](std::string_view d) { bytewise.emplace_back(d); });
    for (char c : stream)
        parser.feed(std::string_view(&c, 1));
    CHECK(bytewise == whole);
}

TEST_CASE("UTF-8 pieces are handed on in whole characters only", "[sse][utf8]")
{
    const std::string text = "a ü 球 ✓ 😀 z"; // 1-, 2-, 3- and 4-byte sequences
    for (size_t cut = 0; cut <= text.size(); ++cut) {
        Utf8Joiner joiner;
        const std::string first = joiner.take(std::string_view(text).substr(0, cut));
        const std::string second = joiner.take(std::string_view(text).substr(cut));
        INFO("cut at " << cut);
        CHECK(first + second == text);
        CHECK(joiner.held().empty());
        // The first piece never ends inside a character.
        CHECK(text.compare(0, first.size(), first) == 0);
        if (!first.empty() && first.size() < text.size())
            CHECK((static_cast<unsigned char>(text[first.size()]) & 0xC0) != 0x80);
    }
    Utf8Joiner joiner;
    CHECK(joiner.take("\xF0\x9F").empty()); // half an emoji waits
    CHECK(joiner.held().size() == 2);
    CHECK(joiner.take("\x98\x80!") == "😀!");
}
