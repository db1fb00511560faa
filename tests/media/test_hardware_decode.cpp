// Decoding on a GPU (frames.hardware_decode), where this machine can show it: no GPU here, but Mesa's lavapipe is a
// real Vulkan device on the CPU, so a device opens, its surfaces are real hardware frames, and FFmpeg 5.1's decoders,
// none of which decodes on Vulkan, show the fall back to software.
#include "decoded_pictures.hpp"
#include "fixtures.hpp"
#include "twelve_intervals.hpp"

#include "media/frame_choice.hpp"
#include "media/frame_extractor.hpp"
#include "media/frame_index.hpp"
#include "media/hardware_decode.hpp"
#include "media/media_error.hpp"
#include "media/media_source.hpp"
#include "media/picture.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <optional>

extern "C" {
#include <libavutil/hwcontext.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
}

using namespace jarvis;
using namespace jarvis::test;

TEST_CASE("hardware decoding off, or a device that cannot be opened, leaves decoding in software and says why", "[media][hardware]")
{
    HardwareDevices devices;
    HardwareChoice off = devices.choose("off");
    CHECK_FALSE(off.device);
    CHECK(off.unavailable.empty());

    const HardwareChoice missing = devices.choose("vaapi:/nonexistent/renderD999");
    CHECK_FALSE(missing.device);
    CHECK_THAT(missing.unavailable, Catch::Contains("no GPU decoder could be opened") && Catch::Contains("vaapi:/nonexistent/renderD999"));
    // Asked again (the next request), the same answer, from what the first attempt found.
    CHECK(devices.choose("vaapi:/nonexistent/renderD999").unavailable == missing.unavailable);

    CHECK_THAT(devices.choose("quantum").unavailable, Catch::Contains("knows no device type 'quantum'"));
}

TEST_CASE("an opened device is kept and shared: the next request gets the same one", "[media][hardware]")
{
    HardwareDevices devices;
    const HardwareChoice first = devices.choose("vulkan");
    INFO(first.unavailable);
    REQUIRE(first.device); // lavapipe (Debian's mesa-vulkan-drivers, installed by scripts/setup.sh)
    CHECK(first.device->type == AV_HWDEVICE_TYPE_VULKAN);
    CHECK(first.device->name == "vulkan");
    CHECK(devices.choose("vulkan").device == first.device);
}

namespace {

// A frame of `format` filled with a pattern that differs per plane and per row.
av::Frame patterned_frame(AVPixelFormat format, int width, int height)
{
    av::Frame frame(av_frame_alloc());
    frame->format = format;
    frame->width = width;
    frame->height = height;
    REQUIRE(av_frame_get_buffer(frame.get(), 0) >= 0);
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
    for (int plane = 0; plane < av_pix_fmt_count_planes(format); ++plane) {
        const int rows = plane == 0 ? height : AV_CEIL_RSHIFT(height, desc->log2_chroma_h);
        for (int y = 0; y < rows; ++y)
            for (int x = 0; x < frame->linesize[plane]; ++x)
                frame->data[plane][y * frame->linesize[plane] + x] = static_cast<uint8_t>(plane * 61 + y * 7 + x * 3);
    }
    return frame;
}

bool same_pixels(const AVFrame& a, const AVFrame& b)
{
    const auto format = static_cast<AVPixelFormat>(a.format);
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
    for (int plane = 0; plane < av_pix_fmt_count_planes(format); ++plane) {
        const int rows = plane == 0 ? a.height : AV_CEIL_RSHIFT(a.height, desc->log2_chroma_h);
        const int row_bytes = av_image_get_linesize(format, a.width, plane);
        for (int y = 0; y < rows; ++y)
            if (std::memcmp(a.data[plane] + y * a.linesize[plane], b.data[plane] + y * b.linesize[plane], row_bytes) != 0)
                return false;
    }
    return true;
}

} // namespace

TEST_CASE("a GPU surface reaches the converter in memory, with its picture, times and colour description", "[media][hardware]")
{
    HardwareDevices devices;
    const HardwareChoice vulkan = devices.choose("vulkan");
    INFO(vulkan.unavailable);
    REQUIRE(vulkan.device);

    for (const AVPixelFormat format : {AV_PIX_FMT_NV12, AV_PIX_FMT_P010LE}) { // what GPUs decode 8- and 10-bit video to
        INFO(av_get_pix_fmt_name(format));
        constexpr int width = 96, height = 54;
        av::Frame picture = patterned_frame(format, width, height);
        picture->pts = picture->best_effort_timestamp = 4242;
        picture->color_trc = AVCOL_TRC_SMPTE2084;
        picture->colorspace = AVCOL_SPC_BT2020_NCL;
        picture->color_range = AVCOL_RANGE_MPEG;
        const GpuSurface on_gpu = upload(vulkan.device->context.get(), AV_PIX_FMT_VULKAN, *picture);

        av::Frame download;
        const AVFrame& in_memory = in_system_memory(*on_gpu.frame, download, "clip.mp4");
        CHECK(&in_memory == download.get());
        CHECK(in_memory.hw_frames_ctx == nullptr);
        CHECK(in_memory.format == format);
        CHECK(in_memory.width == width);
        CHECK(in_memory.height == height);
        CHECK(in_memory.best_effort_timestamp == 4242);
        CHECK(in_memory.color_trc == AVCOL_TRC_SMPTE2084);
        CHECK(in_memory.colorspace == AVCOL_SPC_BT2020_NCL);
        CHECK(same_pixels(in_memory, *picture));

        // A frame already in memory is handed on as it is.
        CHECK(&in_system_memory(*picture, download, "clip.mp4") == picture.get());
    }
}

TEST_CASE("a device that cannot decode the video gives the same frames, decoded in software", "[media][hardware]")
{
    HardwareDevices devices;
    const HardwareChoice vulkan = devices.choose("vulkan");
    INFO(vulkan.unavailable);
    REQUIRE(vulkan.device);

    TwelveIntervals clip;
    const FrameIndex& index = *clip.index;
    const std::vector<FrameTarget>& targets = clip.choice.targets;
    ExtractionRequest& request = clip.request;

    // FFmpeg 5.1 has no Vulkan decoding: H.264's decoder offers no way onto the device. A later FFmpeg built with it
    // (7.1, scripts/check_ffmpeg_versions.sh) takes the device, and lavapipe, which has no video queue, fails its
    // set-up when the stream starts: either way the frames are decoded in software.
    const bool decoder_takes_vulkan = decoder_has_device_type("vulkan", "h264");
    av::CodecContext codec(avcodec_alloc_context3(avcodec_find_decoder(AV_CODEC_ID_H264)));
    CHECK(decode_on_device(*codec, *codec->codec, *vulkan.device) == decoder_takes_vulkan);
    CHECK((codec->hw_device_ctx != nullptr) == decoder_takes_vulkan);

    const Extraction software = extract_frames(request, index, targets, {});
    request.hardware = vulkan.device;
    const Extraction fallback = extract_frames(request, index, targets, {});
    CHECK(fallback.pictures_on_gpu == 0);
    CHECK(fallback.pictures_decoded == software.pictures_decoded);
    REQUIRE(fallback.frames.size() == software.frames.size());
    for (size_t i = 0; i < software.frames.size(); ++i) {
        INFO("frame " << i);
        CHECK(fallback.frames[i].pts == software.frames[i].pts);
        CHECK(fallback.frames[i].jpeg == software.frames[i].jpeg);
    }
}

TEST_CASE("a picture that comes off a GPU surface as NV12 is the JPEG its planar decode gives", "[media][hardware]")
{
    HardwareDevices devices;
    const HardwareChoice vulkan = devices.choose("vulkan");
    INFO(vulkan.unavailable);
    REQUIRE(vulkan.device);

    TwelveIntervals clip;
    const av::Frame planar = first_picture(clip.video.string());
    REQUIRE(planar->format == AV_PIX_FMT_YUV420P);
    // What a GPU decodes to: the same samples, U and V interleaved (a repack, nothing scaled).
    av::Frame nv12(av_frame_alloc());
    nv12->format = AV_PIX_FMT_NV12;
    nv12->width = planar->width;
    nv12->height = planar->height;
    REQUIRE(av_frame_get_buffer(nv12.get(), 0) >= 0);
    REQUIRE(av_frame_copy_props(nv12.get(), planar.get()) >= 0);
    av::Sws repack(sws_getContext(planar->width, planar->height, AV_PIX_FMT_YUV420P, planar->width, planar->height, AV_PIX_FMT_NV12,
                                  SWS_POINT, nullptr, nullptr, nullptr));
    REQUIRE(sws_scale(repack.get(), planar->data, planar->linesize, 0, planar->height, nv12->data, nv12->linesize) == planar->height);

    const GpuSurface on_gpu = upload(vulkan.device->context.get(), AV_PIX_FMT_VULKAN, *nv12);

    // As the decode loop's emit() does: to memory, scaled to the model's size, JPEG.
    av::Frame download;
    PictureConverter from_gpu(160, 96, 0), from_software(160, 96, 0);
    JpegEncoder gpu_jpeg(5), software_jpeg(5);
    const std::string via_gpu = gpu_jpeg.encode(*from_gpu.convert(in_system_memory(*on_gpu.frame, download, "clip.mp4")));
    const std::string via_software = software_jpeg.encode(*from_software.convert(*planar));
    CHECK(via_gpu.size() > 1000);
    CHECK(via_gpu == via_software);
}
