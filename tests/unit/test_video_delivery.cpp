#include "config/config_error.hpp"
#include "fixtures.hpp"
#include "media/media_source.hpp"
#include "staged_file.hpp"
#include "video_delivery.hpp"
#include "volume_paths.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using jarvis::map_host_path;

TEST_CASE("host paths inside the volume map to percent-encoded file:/// URLs under the container path", "[delivery][paths]")
{
    CHECK(map_host_path("/srv/input_data/clips/my trip/día 1#.mp4", "/srv/input_data", "/data/") ==
          "file:///data/clips/my%20trip/d%c3%ada%201%23.mp4");
    CHECK(map_host_path("/srv/input_data/a.mp4", "/srv/input_data/", "/data") == "file:///data/a.mp4");
}

TEST_CASE("Windows host paths map with drive letters, separators and case compared as Windows does", "[delivery][paths]")
{
    const std::string root = "C:\\Users\\Ana\\Jarvis\\input_data";
    CHECK(map_host_path("C:\\Users\\Ana\\Jarvis\\input_data\\Clip One.mp4", root, "/data") == "file:///data/Clip%20One.mp4");
    CHECK(map_host_path("c:/users/ana/jarvis/INPUT_DATA/sub/x.MP4", root, "/data") == "file:///data/sub/x.MP4");
    CHECK(map_host_path("C:\\Users\\Ana\\Jarvis\\input_data\\..\\secret.mp4", root, "/data") == std::nullopt);
    CHECK(map_host_path("D:\\Users\\Ana\\Jarvis\\input_data\\x.mp4", root, "/data") == std::nullopt);
    CHECK(map_host_path("C:\\Users\\Ana\\Jarvis\\input_data2\\x.mp4", root, "/data") == std::nullopt);
    CHECK(map_host_path("C:relative\\x.mp4", root, "/data") == std::nullopt);
    // UNC shares
    CHECK(map_host_path("\\\\nas\\media\\input\\x.mp4", "\\\\NAS\\Media\\input", "/data") == "file:///data/x.mp4");
    CHECK(map_host_path("\\\\nas\\other\\input\\x.mp4", "\\\\nas\\media\\input", "/data") == std::nullopt);
    // A POSIX path never matches a Windows root, and the reverse.
    CHECK(map_host_path("/c/Users/Ana/Jarvis/input_data/x.mp4", root, "/data") == std::nullopt);
}

TEST_CASE("Windows long-path forms name the same places as the plain ones", "[delivery][paths]")
{
    const std::string root = "C:\\Users\\Ana\\Jarvis\\input_data";
    CHECK(map_host_path("\\\\?\\C:\\Users\\Ana\\Jarvis\\input_data\\x.mp4", root, "/data") == "file:///data/x.mp4");
    CHECK(map_host_path("C:\\Users\\Ana\\Jarvis\\input_data\\x.mp4", "\\\\?\\" + root, "/data") == "file:///data/x.mp4");
    CHECK(map_host_path("\\\\?\\UNC\\nas\\media\\input\\x.mp4", "\\\\nas\\media\\input", "/data") == "file:///data/x.mp4");
    CHECK(map_host_path("\\\\?\\D:\\input_data\\x.mp4", root, "/data") == std::nullopt);
}

TEST_CASE("nothing outside the volume maps: not the root itself, not through .., not a sibling", "[delivery][paths]")
{
    CHECK(map_host_path("/srv/input_data", "/srv/input_data", "/data") == std::nullopt);
    CHECK(map_host_path("/srv/input_data/../etc/passwd", "/srv/input_data", "/data") == std::nullopt);
    CHECK(map_host_path("/srv/input_data2/x.mp4", "/srv/input_data", "/data") == std::nullopt);
    CHECK(map_host_path("relative/x.mp4", "/srv/input_data", "/data") == std::nullopt);
}

TEST_CASE("delivery=auto: file for a local server with a volume, http with an advertised host, else frames", "[delivery]")
{
    const jarvis::MediaSource source = jarvis::MediaSource::open(jarvis::test::sample_video().string());
    const auto loadout = jarvis::parse_loadout("vllm://m#nativevideo");
    jarvis::ProviderConfig config;
    CHECK(jarvis::decide_delivery(source.info(), loadout, config).mode == jarvis::DeliveryMode::frames);
    config.http_delivery.advertise = "host.docker.internal";
    CHECK(jarvis::decide_delivery(source.info(), loadout, config).mode == jarvis::DeliveryMode::http);
    jarvis::test::TempDir volume;
    config.input_data = {volume.path().string(), "/data"};
    CHECK(jarvis::decide_delivery(source.info(), loadout, config).mode == jarvis::DeliveryMode::file);
    // A volume the video cannot be staged into is passed over, and the reason says so.
    config.input_data = {(volume.path() / "missing").string(), "/data"};
    const auto passed_over = jarvis::decide_delivery(source.info(), loadout, config);
    CHECK(passed_over.mode == jarvis::DeliveryMode::http);
    CHECK_THAT(passed_over.why, Contains("cannot be staged") && Contains("does not exist"));
    config.input_data = {volume.path().string(), "/data"};
    config.endpoint.base_url = "http://gpu-box:8000/v1"; // a remote server cannot see this machine's volume
    CHECK(jarvis::decide_delivery(source.info(), loadout, config).mode == jarvis::DeliveryMode::http);
    CHECK(jarvis::decide_delivery(source.info(), jarvis::parse_loadout("vllm://m#nativevideo#start=1"), config).mode ==
          jarvis::DeliveryMode::frames);
}

TEST_CASE("explicit deliveries that cannot work say why", "[delivery][errors]")
{
    const jarvis::MediaSource source = jarvis::MediaSource::open(jarvis::test::sample_video().string());
    const jarvis::ProviderConfig none;
    CHECK_THROWS_WITH(jarvis::decide_delivery(source.info(), jarvis::parse_loadout("vllm://m#nativevideo#delivery=file"), none),
                      Contains("needs the shared volume"));
    jarvis::ProviderConfig open_bind;
    open_bind.http_delivery.bind = "0.0.0.0";
    CHECK_THROWS_WITH(jarvis::decide_delivery(source.info(), jarvis::parse_loadout("vllm://m#nativevideo#delivery=http"), open_bind),
                      Contains("http_delivery.advertise"));
    CHECK_THROWS_WITH(jarvis::decide_delivery(source.info(), jarvis::parse_loadout("vllm://m#nativevideo#delivery=data#start=1"), none),
                      Contains("vLLM has no clipping"));
}

TEST_CASE("staging links on the same filesystem, copies across filesystems, and always cleans up", "[delivery][staging]")
{
    const fs::path video = jarvis::test::sample_video();
    const std::string bytes = jarvis::test::read_file(video);
    jarvis::test::TempDir same_fs; // beside the video, in the temporary directory
    std::string shm_root = "/dev/shm/jarvis-test-XXXXXX"; // tmpfs: another filesystem
    REQUIRE(mkdtemp(shm_root.data()) != nullptr);
    const fs::path other_fs = shm_root;

    for (const auto& [volume, expect_link] : {std::pair{same_fs.path(), true}, std::pair{other_fs, false}}) {
        INFO(volume);
        fs::path staged_path;
        {
            jarvis::StagedFile staged(video, volume);
            staged_path = staged.path();
            CHECK(staged.linked() == expect_link);
            CHECK(jarvis::test::read_file(staged.path()) == bytes);
            CHECK(staged.relative_path().rfind(".jarvis-staging/jarvis-", 0) == 0);
            CHECK_THAT(staged.relative_path(), Contains("-sample_h264.mp4"));
            for (const auto& entry : fs::directory_iterator(volume / ".jarvis-staging"))
                CHECK(entry.path().filename().string().rfind(".part-", 0) != 0); // no half-written file left
        }
        CHECK_FALSE(fs::exists(staged_path));
    }
    fs::remove_all(other_fs);
    CHECK(jarvis::safe_file_name("Mi vídeo (1).MOV") == "Mi_v__deo__1_.MOV");
}
