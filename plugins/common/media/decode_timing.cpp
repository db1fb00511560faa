#include "media/decode_timing.hpp"

#include "media/av_handles.hpp"
#include "media/hardware_decode.hpp"
#include "media/media_error.hpp"
#include "media/media_source.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>
#include <vector>

namespace jarvis {
namespace {

// One decoder's pass over the whole video: its pictures, and how many of them came off the GPU.
DecodeTiming decode_every_frame(const std::string& path, const HardwareDevice* device)
{
    MediaSource source = MediaSource::open(path);
    const AVCodecParameters* parameters = source.stream()->codecpar;
    const AVCodec* decoder = avcodec_find_decoder(parameters->codec_id);
    if (decoder == nullptr)
        throw MediaError(fmt::format("cannot use video '{}': this FFmpeg has no decoder for {}", path, avcodec_get_name(parameters->codec_id)));
    av::CodecContext codec(avcodec_alloc_context3(decoder));
    av::Packet packet(av_packet_alloc());
    av::Frame frame(av_frame_alloc());
    if (!codec || !packet || !frame)
        throw std::bad_alloc();
    int rc = avcodec_parameters_to_context(codec.get(), parameters);
    if (rc >= 0) {
        codec->thread_count = 1;
        if (device != nullptr)
            decode_on_device(*codec, *decoder, *device);
        rc = avcodec_open2(codec.get(), decoder, nullptr);
    }
    if (rc < 0)
        throw MediaError(fmt::format("cannot use video '{}': cannot open its decoder: {}", path, av::error_string(rc)));

    DecodeTiming timing;
    const auto receive_all = [&] {
        while (avcodec_receive_frame(codec.get(), frame.get()) >= 0) {
            ++timing.pictures;
            timing.on_gpu += frame->hw_frames_ctx != nullptr ? 1 : 0;
            av_frame_unref(frame.get());
        }
    };
    while (av_read_frame(source.format(), packet.get()) >= 0) {
        if (packet->stream_index == source.stream_index() && avcodec_send_packet(codec.get(), packet.get()) >= 0)
            receive_all();
        av_packet_unref(packet.get());
    }
    avcodec_send_packet(codec.get(), nullptr); // drain
    receive_all();
    return timing;
}

} // namespace

double seconds_to_decode_every_frame(const std::string& path) { return time_decoding_every_frame(path, nullptr, 1).seconds; }

DecodeTiming time_decoding_every_frame(const std::string& path, const HardwareDevice* device, int decoders)
{
    const size_t count = static_cast<size_t>(std::max(1, decoders));
    std::vector<DecodeTiming> each(count);
    std::vector<std::exception_ptr> failures(count);
    const auto start = std::chrono::steady_clock::now();
    {
        // Joined on every way out, a failure to start a thread included.
        struct Threads : std::vector<std::thread>
        {
            ~Threads()
            {
                for (auto& t : *this)
                    t.join();
            }
        } threads;
        threads.reserve(count);
        for (size_t i = 0; i < count; ++i)
            threads.emplace_back([&, i] {
                try {
                    each[i] = decode_every_frame(path, device);
                } catch (...) {
                    failures[i] = std::current_exception();
                }
            });
    }
    DecodeTiming total;
    total.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (size_t i = 0; i < count; ++i) {
        if (failures[i])
            std::rethrow_exception(failures[i]);
        total.pictures += each[i].pictures;
        total.on_gpu += each[i].on_gpu;
    }
    return total;
}

} // namespace jarvis
