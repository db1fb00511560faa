// probe's timing of our decoding (media/decode_timing): decoders on threads of their own at once, each over the
// whole video. Part of threads_tests, so that ThreadSanitizer runs it.
#include "fixtures.hpp"

#include "media/decode_timing.hpp"
#include "media/hardware_decode.hpp"
#include "media/media_error.hpp"
#include "media/media_source.hpp"

#include <catch2/catch.hpp>

using namespace jarvis;

TEST_CASE("decode timing runs its decoders at once and counts every picture, and those that came off the GPU", "[threads][decode_timing]")
{
    const std::string video = test::sample_video().string();
    const int64_t frames = MediaSource::open(video).info().frame_count;
    REQUIRE(frames > 0);

    const DecodeTiming software = time_decoding_every_frame(video, nullptr, 2);
    CHECK(software.pictures == 2 * frames);
    CHECK(software.on_gpu == 0);
    CHECK(software.seconds > 0);

    // Mesa's Vulkan device on the CPU: it opens, and FFmpeg 5.1 decodes nothing on it, so every picture is software's.
    HardwareDevices devices;
    const HardwareChoice vulkan = devices.choose("vulkan");
    INFO(vulkan.unavailable);
    REQUIRE(vulkan.device);
    const DecodeTiming on_device = time_decoding_every_frame(video, vulkan.device.get(), 3);
    CHECK(on_device.pictures == 3 * frames);
    CHECK(on_device.on_gpu == 0);

    // A failure in one decoder's thread reaches the caller, naming the file.
    CHECK_THROWS_AS(time_decoding_every_frame("/nonexistent/clip.mp4", nullptr, 2), MediaError);
    CHECK_THROWS_WITH(time_decoding_every_frame("/nonexistent/clip.mp4", nullptr, 2), Catch::Contains("/nonexistent/clip.mp4"));
}
