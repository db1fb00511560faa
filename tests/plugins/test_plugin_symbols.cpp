// Each plugin exports exactly one dynamic symbol and no STB_GNU_UNIQUE ones (which would pin it in memory).
#include "fixtures.hpp"
#include "process.hpp"

#include <vector>
// Boost 1.74's library_info uses std::vector without including <vector>.
#include <boost/dll/library_info.hpp>

#include <catch2/catch.hpp>

namespace fs = std::filesystem;

TEST_CASE("each real plugin exports exactly jarvis_vision_plugin", "[symbols]")
{
    for (const char* name : {"native_video.so", "frame_slicer.so"}) {
        INFO(name);
        boost::dll::library_info info(jarvis::test::build_plugin_dir() / name);
        const std::vector<std::string> symbols = info.symbols();
        CHECK(symbols == std::vector<std::string>{"jarvis_vision_plugin"});
    }
}

TEST_CASE("no plugin has STB_GNU_UNIQUE dynamic symbols", "[symbols]")
{
    for (const char* name : {"native_video.so", "frame_slicer.so"}) {
        INFO(name);
        const auto r = jarvis::test::run_process({"/usr/bin/readelf", "-W", "--dyn-syms",
                                                  (jarvis::test::build_plugin_dir() / name).string()});
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.find("jarvis_vision_plugin") != std::string::npos);
        CHECK(r.out.find("UNIQUE") == std::string::npos);
    }
}
