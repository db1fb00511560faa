#include "fixtures.hpp"

#include "process.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace jarvis::test {
namespace fs = std::filesystem;

TempDir::TempDir() : TempDir(fs::temp_directory_path()) {}

TempDir::TempDir(const fs::path& parent)
{
    std::string pattern = (parent / "jarvis-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
        throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir()
{
    std::error_code ec;
    fs::remove_all(path_, ec);
}

namespace {

const fs::path& video_cache()
{
    static TempDir dir;
    return dir.path();
}

std::mutex video_mutex;

} // namespace

fs::path make_video(const std::string& name, const std::vector<std::string>& args)
{
    std::lock_guard lock(video_mutex);
    const fs::path out = video_cache() / name;
    if (fs::exists(out))
        return out;
    std::vector<std::string> argv = {"/usr/bin/ffmpeg", "-nostdin", "-v", "error", "-y"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(out.string());
    // A guard against a hung encoder only: the longest fixture (40 s of HEVC) took over two minutes beside a build.
    const ProcessResult r = run_process(argv, std::chrono::minutes(10));
    if (r.exit_code != 0)
        throw std::runtime_error("ffmpeg could not make " + name + ": " + (r.timed_out ? "it ran for 10 minutes" : r.err));
    return out;
}

fs::path sample_video()
{
    return make_video("sample_h264.mp4", {"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "4", "-c:v",
                                          "libx264", "-bf", "2", "-g", "30", "-pix_fmt", "yuv420p"});
}

fs::path build_plugin_dir()
{
    if (const char* dir = std::getenv("JARVIS_TEST_PLUGIN_DIR"); dir != nullptr && *dir != '\0')
        return dir;
    return JARVIS_TEST_BUILD_PLUGIN_DIR;
}

fs::path fixture_plugin_dir() { return JARVIS_TEST_FIXTURE_PLUGIN_DIR; }

fs::path host_binary() { return JARVIS_TEST_HOST_BINARY; }

std::string read_file(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace jarvis::test

namespace jarvis::test {

int replay_fuzz_regressions(const std::string& target, const std::function<void(const uint8_t*, size_t)>& body)
{
    std::vector<fs::path> inputs;
    for (const auto& entry : fs::directory_iterator(fs::path(JARVIS_TEST_SOURCE_DIR) / "tests/fuzz/regressions" / target))
        inputs.push_back(entry.path());
    std::sort(inputs.begin(), inputs.end());
    for (const fs::path& input : inputs) {
        const std::string bytes = read_file(input);
        body(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    }
    return static_cast<int>(inputs.size());
}

void set_mp4_rotation(const fs::path& mp4, int clockwise_degrees)
{
    std::string bytes = read_file(mp4);
    const size_t tkhd = bytes.find("tkhd");
    if (tkhd == std::string::npos)
        throw std::runtime_error(mp4.string() + " has no tkhd box");
    const int version = static_cast<unsigned char>(bytes[tkhd + 4]);
    // After the version/flags: times, track id, duration (wider in version 1), reserved, layer, group, volume.
    const size_t matrix = tkhd + 4 + 4 + (version == 1 ? 32 : 20) + 8 + 8;
    const int32_t one = 0x10000;
    int32_t a = one, b = 0, c = 0, d = one;
    switch (clockwise_degrees) {
    case 90: a = 0, b = one, c = -one, d = 0; break;
    case 180: a = -one, d = -one; break;
    case 270: a = 0, b = -one, c = one, d = 0; break;
    default: break;
    }
    auto put = [&](size_t at, int32_t v) {
        const auto u = static_cast<uint32_t>(v);
        bytes[at] = static_cast<char>(u >> 24);
        bytes[at + 1] = static_cast<char>(u >> 16);
        bytes[at + 2] = static_cast<char>(u >> 8);
        bytes[at + 3] = static_cast<char>(u);
    };
    put(matrix, a);
    put(matrix + 4, b);
    put(matrix + 12, c);
    put(matrix + 16, d);
    std::ofstream(mp4, std::ios::binary | std::ios::trunc) << bytes;
}

} // namespace jarvis::test
