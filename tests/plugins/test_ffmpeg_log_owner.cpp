// FFmpeg's log callback is process-wide; the plugins share one owner of it (ffmpeg_log_owner.h).
#include "fixtures.hpp"
#include "plugin_loader.hpp"

extern "C" {
#include <libavutil/log.h>
}

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

std::atomic<int> host_lines{0};
void host_callback(void*, int, const char*, va_list) { ++host_lines; } // as PyAV installs one

jarvis::vision::Provider provider_of(const std::string& plugin)
{
    return jarvis::vision::Provider(jarvis::host::load_plugin(jarvis::test::build_plugin_dir() / (plugin + ".so")), "{}");
}

// Everything written to this process's stderr while the object lives.
class CapturedStderr
{
public:
    CapturedStderr() : file_(std::tmpfile()), saved_(::dup(STDERR_FILENO))
    {
        std::fflush(stderr);
        ::dup2(::fileno(file_), STDERR_FILENO);
    }
    std::string text()
    {
        std::fflush(stderr);
        ::dup2(saved_, STDERR_FILENO);
        std::string out;
        std::rewind(file_);
        for (int c; (c = std::fgetc(file_)) != EOF;)
            out += static_cast<char>(c);
        return out;
    }
    ~CapturedStderr()
    {
        ::dup2(saved_, STDERR_FILENO);
        ::close(saved_);
        std::fclose(file_);
    }

private:
    std::FILE* file_;
    int saved_;
};

} // namespace

TEST_CASE("plugins share FFmpeg's log callback: none undoes another and the host's callback comes back", "[plugins][ffmpeg_log]")
{
    // An MP4 whose index (moov, at the end) is cut off: FFmpeg says "moov atom not found", which only reaches the
    // error message through the plugins' callback.
    jarvis::test::TempDir dir;
    const auto no_index = dir.path() / "no_index.mp4";
    {
        const std::string bytes = jarvis::test::read_file(jarvis::test::sample_video());
        std::FILE* f = std::fopen(no_index.c_str(), "wb");
        std::fwrite(bytes.data(), 1, bytes.size() / 2, f);
        std::fclose(f);
    }
    const json request = {{"video", no_index.string()}, {"prompt", "x"}, {"loadout", "vllm://m"}};

    av_log_set_callback(&host_callback);
    host_lines = 0;
    {
        auto slicer = provider_of("frame_slicer");
        { auto native = provider_of("native_video"); } // created and gone while frame_slicer lives
        CapturedStderr err;
        try {
            slicer.plan(request.dump());
            FAIL("a video without its index planned");
        } catch (const jarvis::vision::Error& e) {
            CHECK(e.code() == JV_E_MEDIA);
            CHECK_THAT(e.what(), Contains("moov atom not found"));
        }
        CHECK(err.text().empty()); // FFmpeg's lines went to the plugin's log, not to stderr
        // A line logged outside any plugin call still reaches the host's callback.
        av_log(nullptr, AV_LOG_ERROR, "outside any call\n");
        CHECK(host_lines == 1);
    }
    // The last provider gone, the host's callback is the one in force again.
    av_log(nullptr, AV_LOG_ERROR, "after the last provider\n");
    CHECK(host_lines == 2);
    av_log_set_callback(&av_log_default_callback);
}
