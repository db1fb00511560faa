// Loading real .so files with Boost.DLL: the real plugins, and every way a file can fail to be one.
#include "config/config_error.hpp"
#include "fixtures.hpp"
#include "plugin_loader.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <filesystem>
#include <sstream>
#include <optional>
#include <vector>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using namespace jarvis::host;

namespace {

const LoadFailure* failure_for(const PluginScan& scan, const std::string& file_name)
{
    for (const auto& e : scan.errors)
        if (e.path.filename() == file_name)
            return &e;
    return nullptr;
}

bool mapped(const fs::path& library)
{
    const std::string maps = jarvis::test::read_file("/proc/self/maps");
    return maps.find(fs::canonical(library).string()) != std::string::npos;
}

// Keeps a library's direct dependencies (libavformat, libcurl, ...) loaded for the rest of the process, so that
// unloading the library unmaps only the library itself. Without it LeakSanitizer reports the heap blocks held by the
// globals of unmapped dependencies as leaks; the property under test is the plugin's own unloading.
void pin_dependencies_of(const fs::path& library)
{
    const auto r = jarvis::test::run_process({"/usr/bin/readelf", "-d", library.string()});
    REQUIRE(r.exit_code == 0);
    auto bracketed = [](const std::string& line) {
        const size_t open = line.find('[');
        return line.substr(open + 1, line.find(']', open) - open - 1);
    };
    std::vector<std::string> needed;
    std::vector<fs::path> run_path; // the plugin's own libraries are found through it ($ORIGIN/..)
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        if (line.find("(NEEDED)") != std::string::npos)
            needed.push_back(bracketed(line));
        if (line.find("(RUNPATH)") != std::string::npos || line.find("(RPATH)") != std::string::npos) {
            std::istringstream dirs(bracketed(line));
            for (std::string dir; std::getline(dirs, dir, ':');)
                if (!dir.empty())
                    run_path.push_back(dir.rfind("$ORIGIN", 0) == 0 ? library.parent_path().string() + dir.substr(7) : dir);
        }
    }
    for (const auto& name : needed) {
        std::string path = name;
        for (const auto& dir : run_path)
            if (fs::exists(dir / name)) {
                path = (dir / name).string();
                break;
            }
        INFO(path);
        REQUIRE(dlopen(path.c_str(), RTLD_NOW | RTLD_NODELETE) != nullptr);
    }
}

} // namespace

TEST_CASE("both real plugins load and speak ABI 1", "[loader]")
{
    const PluginScan scan = scan_plugin_dir(jarvis::test::build_plugin_dir());
    CHECK(scan.errors.empty());
    REQUIRE(scan.plugins.size() == 2);
    CHECK(scan.plugins[0].plugin.name() == "frame_slicer");
    CHECK(scan.plugins[1].plugin.name() == "native_video");
    for (const auto& p : scan.plugins) {
        CHECK(p.plugin.abi() == "1.1");
        CHECK_FALSE(p.plugin.version().empty());
    }
}

TEST_CASE("each broken file is reported with its reason and skipped while the rest still load", "[loader][errors]")
{
    // One directory holding the real plugins next to every kind of broken one.
    jarvis::test::TempDir dir;
    for (const auto& source : {jarvis::test::build_plugin_dir(), jarvis::test::fixture_plugin_dir()})
        for (const auto& entry : fs::directory_iterator(source))
            if (entry.path().extension() == ".so")
                fs::copy_file(entry.path(), dir.path() / entry.path().filename());

    const PluginScan scan = scan_plugin_dir(dir.path());
    CHECK(scan.find("native_video") != nullptr);
    CHECK(scan.find("frame_slicer") != nullptr);
    CHECK(scan.find("throwing") != nullptr);
    CHECK(scan.find("echo") != nullptr);
    CHECK(scan.plugins.size() == 4);
    REQUIRE(scan.errors.size() == 4);

    const auto* not_elf = failure_for(scan, "not_elf.so");
    REQUIRE(not_elf != nullptr);
    // The loader's own dlerror() text, naming the file.
    CHECK_THAT(not_elf->message, Contains("cannot load it") && Contains("not_elf.so") &&
                                     (Contains("invalid ELF header") || Contains("file too short")));

    const auto* no_entry = failure_for(scan, "no_entry_point.so");
    REQUIRE(no_entry != nullptr);
    CHECK_THAT(no_entry->message, Contains("does not export jarvis_vision_plugin"));

    const auto* refuses = failure_for(scan, "refuses_major.so");
    REQUIRE(refuses != nullptr);
    CHECK_THAT(refuses->message, Contains("refuses ABI major 1"));

    const auto* small = failure_for(scan, "small_table.so");
    REQUIRE(small != nullptr);
    CHECK_THAT(small->message, Contains("smaller than the"));
}

TEST_CASE("a missing plugin directory is a configuration error naming it", "[loader][errors]")
{
    CHECK_THROWS_AS(scan_plugin_dir("/nonexistent/jarvis/plugins"), jarvis::ConfigError);
    CHECK_THROWS_WITH(scan_plugin_dir("/nonexistent/jarvis/plugins"), Contains("/nonexistent/jarvis/plugins"));
}

TEST_CASE("a plugin stays mapped while a provider lives and is unmapped after the last one goes", "[loader][unload]")
{
    const fs::path path = jarvis::test::build_plugin_dir() / "native_video.so";
    LoadOptions unload;
    unload.keep_mapped = false;
    pin_dependencies_of(path);
    REQUIRE_FALSE(mapped(path));
    {
        std::optional<jarvis::vision::Provider> provider;
        {
            const jarvis::vision::Plugin plugin = load_plugin(path, unload);
            CHECK(mapped(path));
            provider.emplace(plugin, "{}");
            // Exercise the plugin's code paths that touch global and thread-local state before unloading.
            CHECK_THROWS(provider->plan(R"({"video": "/nonexistent.mp4", "prompt": "x"})"));
        }
        CHECK(mapped(path)); // the plugin object is gone, the provider keeps the library
    }
    CHECK_FALSE(mapped(path));
}
