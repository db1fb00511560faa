// What an HLS playlist's text says before FFmpeg opens it: a master's variants and their sizes, a media playlist's
// length, and URIs resolved as players resolve them.
#include "fixtures.hpp"
#include "fuzz_bodies.hpp"
#include "media/hls_playlist.hpp"

#include <catch2/catch.hpp>

#include <climits>

using namespace jarvis::hls;

TEST_CASE("a playlist is known by its first bytes, not by its name", "[media][hls_playlist]")
{
    CHECK(starts_as_playlist("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1"));
    CHECK(starts_as_playlist("\xEF\xBB\xBF#EXTM3U\r\n#EXT"));
    CHECK(starts_as_playlist("#EXTM3U"));
    CHECK_FALSE(starts_as_playlist("#EXTM3"));                        // cut short: not yet known to be one
    CHECK_FALSE(starts_as_playlist(std::string("\0\0\0 ftypisom", 12))); // an MP4
    CHECK_FALSE(starts_as_playlist("\x1A\x45\xDF\xA3"));               // Matroska
    CHECK_FALSE(starts_as_playlist("G@\x11\x10\0"));                   // MPEG-TS
    CHECK_FALSE(starts_as_playlist("<html>#EXTM3U"));
    CHECK_FALSE(starts_as_playlist(""));
}

TEST_CASE("relative URIs of a playlist resolve against the playlist's own URL", "[media][hls_playlist]")
{
    const std::string base = "https://cdn.example.com:8443/shows/ep1/master.m3u8?token=abc";
    CHECK(resolve_url(base, "v1/index.m3u8") == "https://cdn.example.com:8443/shows/ep1/v1/index.m3u8");
    CHECK(resolve_url(base, "./v1.m3u8") == "https://cdn.example.com:8443/shows/ep1/v1.m3u8");
    CHECK(resolve_url(base, "../ep2/v1.m3u8?x=1") == "https://cdn.example.com:8443/shows/ep2/v1.m3u8?x=1");
    CHECK(resolve_url(base, "../../../../v1.m3u8") == "https://cdn.example.com:8443/v1.m3u8"); // never above the root
    CHECK(resolve_url(base, "/live/v1.m3u8") == "https://cdn.example.com:8443/live/v1.m3u8");
    CHECK(resolve_url(base, "//other.example.com/v1.m3u8") == "https://other.example.com/v1.m3u8");
    CHECK(resolve_url(base, "http://other.example.com/a/v1.m3u8") == "http://other.example.com/a/v1.m3u8");
    CHECK(resolve_url(base, "?token=def") == "https://cdn.example.com:8443/shows/ep1/master.m3u8?token=def");
    CHECK(resolve_url("http://host/master.m3u8", "v1.m3u8") == "http://host/v1.m3u8");
    CHECK(resolve_url("http://host", "v1.m3u8") == "http://host/v1.m3u8");
}

TEST_CASE("a master playlist's variants are read with their sizes, rates and absolute URLs", "[media][hls_playlist]")
{
    // CRLF line ends, a quoted CODECS with a comma, blank and comment lines between a variant and its URI, and an
    // I-frame variant (no URI line: not a variant to read) as sites write them.
    const std::string master = "#EXTM3U\r\n"
                               "#EXT-X-VERSION:6\r\n"
                               "#EXT-X-INDEPENDENT-SEGMENTS\r\n"
                               "#EXT-X-STREAM-INF:BANDWIDTH=5000000,CODECS=\"avc1.640028,mp4a.40.2\",RESOLUTION=1920x1080,FRAME-RATE=29.970\r\n"
                               "\r\n"
                               "# the largest\r\n"
                               "1080p/index.m3u8\r\n"
                               "#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS=\"avc1.4d401e,mp4a.40.2\"\r\n"
                               "https://other.example.com/360p.m3u8\r\n"
                               "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,RESOLUTION=640x360,URI=\"360p_iframes.m3u8\"\r\n";
    const auto variants = complete_master_variants(master, "http://site.example.com/video/master.m3u8");
    REQUIRE(variants);
    REQUIRE(variants->size() == 2);
    const Variant& large = (*variants)[0];
    CHECK(large.url == "http://site.example.com/video/1080p/index.m3u8");
    CHECK(large.width == 1920);
    CHECK(large.height == 1080);
    CHECK(large.frame_rate == Approx(29.97));
    CHECK(large.bandwidth == 5000000);
    const Variant& small = (*variants)[1];
    CHECK(small.url == "https://other.example.com/360p.m3u8");
    CHECK(small.width == 640);
    CHECK(small.height == 360);
    CHECK(small.frame_rate == 0);
}

TEST_CASE("a master whose variants cannot all be chosen by their size is left to FFmpeg", "[media][hls_playlist]")
{
    const std::string url = "http://host/master.m3u8";
    SECTION("a variant without RESOLUTION (audio only, or a size only its stream tells)")
    {
        CHECK_FALSE(complete_master_variants("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=640x360\na.m3u8\n"
                                             "#EXT-X-STREAM-INF:BANDWIDTH=2,CODECS=\"mp4a.40.2\"\nb.m3u8\n",
                                             url));
    }
    SECTION("the picture in alternative renditions")
    {
        CHECK_FALSE(complete_master_variants("#EXTM3U\n#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"cam\",NAME=\"one\",URI=\"cam1.m3u8\"\n"
                                             "#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=640x360,VIDEO=\"cam\"\na.m3u8\n",
                                             url));
    }
    SECTION("a size that is not one")
    {
        for (const std::string size : {"640", "640x", "x360", "0x360", "640x360p", "-640x360"})
            CHECK_FALSE(complete_master_variants("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=" + size + "\na.m3u8\n", url));
    }
    SECTION("a variant without its URI")
    {
        CHECK_FALSE(complete_master_variants("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=640x360\n", url));
    }
    SECTION("a media playlist, or no playlist at all")
    {
        CHECK_FALSE(complete_master_variants("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\na.ts\n#EXT-X-ENDLIST\n", url));
        CHECK_FALSE(complete_master_variants("<html>not found</html>", url));
        CHECK_FALSE(complete_master_variants("", url));
    }
}

TEST_CASE("of a ladder, the variant read is the smallest of the same picture that covers the frames", "[media][hls_playlist]")
{
    const std::vector<Variant> ladder = {
        {"http://h/720.m3u8", 1280, 720, 30, 3000000},  {"http://h/360.m3u8", 640, 360, 30, 800000},
        {"http://h/1080.m3u8", 1920, 1080, 30, 6000000}, {"http://h/360hq.m3u8", 640, 360, 30, 1200000},
        {"http://h/square.m3u8", 480, 480, 30, 700000}, // another view (a crop), never a cheaper copy
    };
    CHECK(largest_variant(ladder).url == "http://h/1080.m3u8");
    CHECK(smallest_variant_covering(ladder, 1152, 640).url == "http://h/720.m3u8");
    CHECK(smallest_variant_covering(ladder, 1280, 720).url == "http://h/720.m3u8");
    CHECK(smallest_variant_covering(ladder, 1281, 640).url == "http://h/1080.m3u8");
    // Two at one size: the better picture.
    CHECK(smallest_variant_covering(ladder, 448, 256).url == "http://h/360hq.m3u8");
    // None covers: the largest.
    CHECK(smallest_variant_covering(ladder, 3840, 2160).url == "http://h/1080.m3u8");
}

TEST_CASE("a media playlist's length is the sum of its segments, and it ends only with EXT-X-ENDLIST", "[media][hls_playlist]")
{
    const auto ended = media_playlist_length("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.004,\na.ts\n#EXTINF:3.5,title\nb.ts\n"
                                             "#EXTINF:1.25\nc.ts\n#EXT-X-ENDLIST\n");
    REQUIRE(ended);
    CHECK(ended->duration_s == Approx(8.754));
    CHECK(ended->ended);
    const auto live = media_playlist_length("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts\n");
    REQUIRE(live);
    CHECK_FALSE(live->ended);
    CHECK_FALSE(media_playlist_length("#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=640x360\na.m3u8\n"));
    CHECK_FALSE(media_playlist_length("#EXTM3U\n#EXT-X-ENDLIST\n")); // no segment
    CHECK_FALSE(media_playlist_length("not a playlist"));
}

TEST_CASE("playlists the fuzzer once found undefined behaviour in are read harmlessly", "[media][hls_playlist][fuzz]")
{
    // A BANDWIDTH of 100 digits: converted through a double, it overflowed long long.
    const auto variants = complete_master_variants("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=" + std::string(100, '4') +
                                                       ",RESOLUTION=640x360\na.m3u8\n",
                                                   "http://host/master.m3u8");
    REQUIRE(variants);
    CHECK(variants->at(0).bandwidth == LLONG_MAX);
    // Meaningful under the sanitizers (the asan preset), where each of these failed.
    CHECK(jarvis::test::replay_fuzz_regressions("fuzz_hls_playlist", jarvis::fuzz::hls_playlist) > 0);
}
