#include "config/config_error.hpp"
#include "fixtures.hpp"
#include "media/media_source.hpp"
#include "video_delivery.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using jarvis::InputDataConfig;
using jarvis::map_into_volume;

TEST_CASE("a file inside the shared volume maps to a percent-encoded file:/// URL under the container path", "[delivery]")
{
    jarvis::test::TempDir volume;
    fs::create_directories(volume.path() / "clips" / "my trip");
    const fs::path file = volume.path() / "clips" / "my trip" / "día 1#.mp4";
    std::ofstream(file) << "x";
    const InputDataConfig config{volume.path().string(), "/data/"};
    CHECK(map_into_volume(file.string(), config) == "file:///data/clips/my%20trip/d%C3%ADa%201%23.mp4");
}

TEST_CASE("nothing outside the volume maps, not through .. nor through a symlink", "[delivery]")
{
    jarvis::test::TempDir root;
    fs::create_directories(root.path() / "volume");
    std::ofstream(root.path() / "secret.mp4") << "x";
    fs::create_symlink(root.path() / "secret.mp4", root.path() / "volume" / "link.mp4");
    const InputDataConfig config{(root.path() / "volume").string(), "/data"};
    CHECK(map_into_volume((root.path() / "volume" / ".." / "secret.mp4").string(), config).empty());
    CHECK(map_into_volume((root.path() / "volume" / "link.mp4").string(), config).empty());
    CHECK(map_into_volume((root.path() / "volume").string(), config).empty());
    CHECK(map_into_volume((root.path() / "secret.mp4").string(), InputDataConfig{}).empty());
}

TEST_CASE("delivery=auto uses the volume when the video is inside it, else inlines it", "[delivery]")
{
    jarvis::test::TempDir volume;
    const fs::path inside = volume.path() / "clip.mp4";
    fs::copy_file(jarvis::test::sample_video(), inside);
    jarvis::ProviderConfig config;
    config.input_data = {volume.path().string(), "/data"};
    const auto loadout = jarvis::parse_loadout("vllm://m#nativevideo");

    const auto in_volume = jarvis::choose_delivery(jarvis::MediaSource::open(inside.string()).info(), loadout, config);
    CHECK(in_volume.mode == "file");
    CHECK(in_volume.url == "file:///data/clip.mp4");

    const auto outside = jarvis::choose_delivery(
        jarvis::MediaSource::open(jarvis::test::sample_video().string()).info(), loadout, config);
    CHECK(outside.mode == "data");
    CHECK(outside.url.rfind("data:video/mp4;base64,", 0) == 0);
    // base64 is 4/3 of the file, padded to a multiple of 4.
    const auto size = fs::file_size(jarvis::test::sample_video());
    CHECK(outside.url.size() == std::string("data:video/mp4;base64,").size() + (size + 2) / 3 * 4);

    CHECK_THROWS_WITH(jarvis::choose_delivery(jarvis::MediaSource::open(jarvis::test::sample_video().string()).info(),
                                              jarvis::parse_loadout("vllm://m#nativevideo#delivery=file"), config),
                      Catch::Matchers::Contains("outside the shared volume"));
}
