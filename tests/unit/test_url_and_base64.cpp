// The text encodings the plugins take from their libraries: base64 from libavutil, file:// URLs and
// percent-decoding from libcurl's URL API.
#include "core/base64.hpp"
#include "http/url_text.hpp"

#include <catch2/catch.hpp>

#include <random>

using jarvis::append_base64;
using jarvis::file_url;
using jarvis::percent_decode;

TEST_CASE("base64 gives RFC 4648's test vectors and appends to what is there", "[unit][base64]")
{
    const std::pair<std::string, std::string> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                           {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (const auto& [bytes, encoded] : vectors) {
        std::string out = "data:x;base64,";
        append_base64(out, bytes);
        CHECK(out == "data:x;base64," + encoded);
    }
    std::string binary;
    for (int i = 0; i < 256; ++i)
        binary += static_cast<char>(i);
    std::string out;
    append_base64(out, binary.substr(250)); // bytes 250..255, including 0xff
    CHECK(out == "+vv8/f7/");
    CHECK(out.find('\0') == std::string::npos);
}

TEST_CASE("file URLs percent-encode all but unreserved characters and slashes, and decode back", "[unit][url]")
{
    CHECK(file_url("/data/clips/a.mp4") == "file:///data/clips/a.mp4");
    CHECK(file_url("/data/my clip#1?%.mp4") == "file:///data/my%20clip%231%3f%25.mp4");
    CHECK(percent_decode("my%20clip%231%3F%25.mp4") == "my clip#1?%.mp4");
    CHECK(percent_decode("100%") == "100%");       // not an escape: kept
    CHECK(percent_decode("%zz%4") == "%zz%4");
    CHECK(percent_decode("a%00b") == std::string("a\0b", 3));

    std::mt19937 random(7);
    for (int n = 0; n < 200; ++n) {
        std::string path = "/data/";
        for (int i = 0; i < 12; ++i)
            path += static_cast<char>(1 + random() % 255); // any byte but NUL
        const std::string url = file_url(path);
        INFO(url);
        REQUIRE(url.rfind("file:///", 0) == 0);
        CHECK(url.find_first_of(" #?\"<>\\^`{|}") == std::string::npos);
        CHECK(percent_decode(url.substr(7)) == path);
    }
}
