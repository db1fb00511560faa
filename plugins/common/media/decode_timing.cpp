#include "media/decode_timing.hpp"

#include "media/av_handles.hpp"
#include "media/media_error.hpp"
#include "media/media_source.hpp"

#include <fmt/format.h>

#include <chrono>

namespace jarvis {

double seconds_to_decode_every_frame(const std::string& path)
{
    MediaSource source = MediaSource::open(path);
    const AVCodecParameters* parameters = source.stream()->codecpar;
    const AVCodec* decoder = avcodec_find_decoder(parameters->codec_id);
    av::CodecContext codec(avcodec_alloc_context3(decoder));
    av::Packet packet(av_packet_alloc());
    av::Frame frame(av_frame_alloc());
    if (!codec || !packet || !frame)
        throw std::bad_alloc();
    int rc = avcodec_parameters_to_context(codec.get(), parameters);
    if (rc >= 0) {
        codec->thread_count = 1;
        rc = avcodec_open2(codec.get(), decoder, nullptr);
    }
    if (rc < 0)
        throw MediaError(fmt::format("cannot use video '{}': cannot open its decoder: {}", path, av::error_string(rc)));

    const auto start = std::chrono::steady_clock::now();
    const auto receive_all = [&] {
        while (avcodec_receive_frame(codec.get(), frame.get()) >= 0)
            av_frame_unref(frame.get());
    };
    while (av_read_frame(source.format(), packet.get()) >= 0) {
        if (packet->stream_index == source.stream_index() && avcodec_send_packet(codec.get(), packet.get()) >= 0)
            receive_all();
        av_packet_unref(packet.get());
    }
    avcodec_send_packet(codec.get(), nullptr); // drain
    receive_all();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace jarvis
