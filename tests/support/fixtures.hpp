#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace jarvis::test {

// A directory removed with everything in it when the object goes; in the temporary directory, or in `parent`
// (/dev/shm, a tmpfs, for another filesystem than the temporary directory's).
class TempDir
{
public:
    TempDir();
    explicit TempDir(const std::filesystem::path& parent);
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Encodes a test video with the ffmpeg command-line tool (lavfi testsrc2) into a per-process cache and returns
// its path. `name` is the file name (its extension picks the container), `args` the encoder options.
std::filesystem::path make_video(const std::string& name, const std::vector<std::string>& args);

// A 4 s 640x360 30 fps H.264 clip with B-frames: the default real video for tests that need "a video".
std::filesystem::path sample_video();

// Where the build put things (compiled in by CMake).
std::filesystem::path build_plugin_dir();    // the real plugins: this build's, or $JARVIS_TEST_PLUGIN_DIR
std::filesystem::path fixture_plugin_dir();  // the broken and special plugins the negative tests use
std::filesystem::path host_binary();         // jarvis-host

std::string read_file(const std::filesystem::path& path);

// Feeds `body` every input the fuzz target `target` once crashed on (tests/fuzz/regressions/<target>/), in name
// order; returns how many there were.
int replay_fuzz_regressions(const std::string& target, const std::function<void(const uint8_t*, size_t)>& body);

} // namespace jarvis::test

namespace jarvis::test {

// Writes a display rotation into an MP4's first track header (tkhd matrix), the way phones record portrait video.
// `clockwise_degrees` is what a player applies: 90, 180 or 270.
void set_mp4_rotation(const std::filesystem::path& mp4, int clockwise_degrees);

} // namespace jarvis::test
