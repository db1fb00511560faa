// A file's first bytes name the picture formats FFmpeg 5.1 misreports. The brands are read only within the "ftyp" box:
// a brand-like word after it (the next box's name, its data) names nothing.
#include "media/picture_signatures.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace jarvis;

namespace {

// A "ftyp" box: size, name, major brand, minor version, compatible brands; `after` follows it.
std::string ftyp(const std::string& major, const std::string& compatible, const std::string& after = "")
{
    const std::string body = major + std::string(4, '\0') + compatible;
    const size_t size = 8 + body.size();
    std::string box = {'\0', '\0', static_cast<char>(size >> 8), static_cast<char>(size & 0xff)};
    return box + "ftyp" + body + after;
}

} // namespace

TEST_CASE("HEIF pictures of HEVC are told apart by their ftyp brands", "[media][signatures]")
{
    CHECK(heif_kind(ftyp("heic", "mif1heicmiaf")) == "HEIC"); // an iPhone's photo
    CHECK(heif_kind(ftyp("mif1", "heic")) == "HEIC");
    CHECK(heif_kind(ftyp("msf1", "")) == "HEIC"); // an image sequence
    CHECK(heif_kind(ftyp("isom", "hevc")) == "HEIC");
    // What FFmpeg reads: AVIF stills and sequences, whatever else they claim; MP4 and QuickTime.
    CHECK(heif_kind(ftyp("avif", "mif1miafMA1B")).empty());
    CHECK(heif_kind(ftyp("mif1", "avifmiaf")).empty());
    CHECK(heif_kind(ftyp("avis", "msf1")).empty());
    CHECK(heif_kind(ftyp("isom", "iso2avc1mp41")).empty());
    CHECK(heif_kind(ftyp("qt  ", "qt  ")).empty());
    // A brand-like word past the box, a box too short for a brand, a head cut short, no box.
    CHECK(heif_kind(ftyp("isom", "mp41", std::string("\0\0\0\x10heic\0\0\0\0", 12))).empty());
    CHECK(heif_kind(ftyp("isom", "mp41", "heic")).empty());
    CHECK(heif_kind(std::string("\0\0\0\x08" "ftypheic", 12)).empty());
    CHECK(heif_kind(ftyp("heic", "mif1").substr(0, 11)).empty());
    CHECK(heif_kind(std::string("\0\0\0\x18" "moovheic\0\0\0\0mif1heic", 24)).empty());
    CHECK(heif_kind("").empty());
}
