#pragma once

#include "media/av_handles.hpp"
#include "media/media_source.hpp"

#include <catch2/catch.hpp>

extern "C" {
#include <libavutil/hwcontext.h>
}

#include <string>

namespace jarvis::test {

// The first picture FFmpeg decodes from `video`, in the layout its decoder outputs.
inline av::Frame first_picture(const std::string& video)
{
    MediaSource source = MediaSource::open(video);
    const AVCodecParameters& par = *source.stream()->codecpar;
    av::CodecContext codec(avcodec_alloc_context3(avcodec_find_decoder(par.codec_id)));
    REQUIRE(avcodec_parameters_to_context(codec.get(), &par) >= 0);
    REQUIRE(avcodec_open2(codec.get(), codec->codec, nullptr) >= 0);
    av::Packet packet(av_packet_alloc());
    av::Frame frame(av_frame_alloc());
    while (av_read_frame(source.format(), packet.get()) >= 0) {
        const bool ours = packet->stream_index == source.stream_index();
        if (ours)
            REQUIRE(avcodec_send_packet(codec.get(), packet.get()) >= 0);
        av_packet_unref(packet.get());
        if (ours && avcodec_receive_frame(codec.get(), frame.get()) >= 0)
            return frame;
    }
    FAIL("no picture decoded from " << video);
    return frame;
}

// `picture` uploaded to a surface of `device` (its pool kept with it), with its properties, as a decoder on that
// device would have output it.
struct GpuSurface
{
    av::BufferRef pool;
    av::Frame frame;
};

inline GpuSurface upload(AVBufferRef* device, AVPixelFormat surface_format, const AVFrame& picture)
{
    GpuSurface surface{av::BufferRef(av_hwframe_ctx_alloc(device)), av::Frame(av_frame_alloc())};
    REQUIRE(surface.pool);
    auto* frames = reinterpret_cast<AVHWFramesContext*>(surface.pool->data);
    frames->format = surface_format;
    frames->sw_format = static_cast<AVPixelFormat>(picture.format);
    frames->width = picture.width;
    frames->height = picture.height;
    REQUIRE(av_hwframe_ctx_init(surface.pool.get()) >= 0);
    REQUIRE(av_hwframe_get_buffer(surface.pool.get(), surface.frame.get(), 0) >= 0);
    REQUIRE(av_hwframe_transfer_data(surface.frame.get(), &picture, 0) >= 0);
    REQUIRE(av_frame_copy_props(surface.frame.get(), &picture) >= 0);
    return surface;
}

} // namespace jarvis::test
