#include "media/test_pattern.hpp"

#include "media/av_handles.hpp"
#include "media/media_error.hpp"

#include "platform/native_path.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

namespace jarvis {
namespace {

void check(int rc, const std::string& path, const char* what)
{
    if (rc < 0)
        throw MediaError(fmt::format("cannot write test video '{}': {}: {}", path, what, av::error_string(rc)));
}

void draw(AVFrame& f, int index, int fps)
{
    const int w = f.width;
    const int h = f.height;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const int bit = 9 - x * 10 / w;
            const bool stripe = y >= h / 2 && ((index >> bit) & 1);
            f.data[0][y * f.linesize[0] + x] = static_cast<uint8_t>(stripe ? 235 : 40);
        }
    // A box crossing the top half once per second: motion a model can describe.
    const int box = h / 4;
    const int left = (index % fps) * (w - box) / std::max(fps - 1, 1);
    for (int y = h / 8; y < h / 8 + box; ++y)
        for (int x = left; x < left + box; ++x)
            f.data[0][y * f.linesize[0] + x] = 200;
    for (int plane = 1; plane < 3; ++plane)
        for (int y = 0; y < h / 2; ++y)
            for (int x = 0; x < w / 2; ++x)
                f.data[plane][y * f.linesize[plane] + x] = 128;
}

void drain(AVCodecContext* codec, AVFormatContext* out, AVStream* stream, const std::string& path)
{
    av::Packet packet(av_packet_alloc());
    while (avcodec_receive_packet(codec, packet.get()) >= 0) {
        av_packet_rescale_ts(packet.get(), codec->time_base, stream->time_base);
        packet->stream_index = stream->index;
        check(av_interleaved_write_frame(out, packet.get()), path, "writing a packet");
    }
}

} // namespace

void write_test_pattern_video(const std::string& path, int seconds, int fps, int width, int height)
{
    AVFormatContext* raw = nullptr;
    check(avformat_alloc_output_context2(&raw, nullptr, "mp4", path.c_str()), path, "choosing the container");
    av::OutputContext out(raw);
    const AVCodec* encoder = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
    if (encoder == nullptr)
        throw MediaError("cannot write test video: this FFmpeg has no MPEG-4 encoder");
    AVStream* stream = avformat_new_stream(out.get(), nullptr);
    av::CodecContext codec(avcodec_alloc_context3(encoder));
    if (stream == nullptr || !codec)
        throw std::bad_alloc();
    codec->width = width;
    codec->height = height;
    codec->pix_fmt = AV_PIX_FMT_YUV420P;
    codec->time_base = {1, fps};
    codec->framerate = {fps, 1};
    codec->gop_size = fps;
    codec->bit_rate = 400000;
    if (out->oformat->flags & AVFMT_GLOBALHEADER)
        codec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    check(avcodec_open2(codec.get(), encoder, nullptr), path, "opening the encoder");
    check(avcodec_parameters_from_context(stream->codecpar, codec.get()), path, "copying codec parameters");
    stream->time_base = codec->time_base;
    check(avio_open(&out->pb, path.c_str(), AVIO_FLAG_WRITE), path, "opening the file");
    check(avformat_write_header(out.get(), nullptr), path, "writing the header");

    av::Frame frame(av_frame_alloc());
    if (!frame)
        throw std::bad_alloc();
    frame->format = AV_PIX_FMT_YUV420P;
    frame->width = width;
    frame->height = height;
    check(av_frame_get_buffer(frame.get(), 32), path, "allocating a frame");
    for (int i = 0; i < seconds * fps; ++i) {
        check(av_frame_make_writable(frame.get()), path, "reusing a frame");
        draw(*frame, i, fps);
        frame->pts = i;
        check(avcodec_send_frame(codec.get(), frame.get()), path, "encoding");
        drain(codec.get(), out.get(), stream, path);
    }
    check(avcodec_send_frame(codec.get(), nullptr), path, "flushing the encoder");
    drain(codec.get(), out.get(), stream, path);
    check(av_write_trailer(out.get()), path, "writing the trailer");
}

void pad_mp4(const std::string& path, uint32_t bytes)
{
    std::ofstream out(native_path(path), std::ios::binary | std::ios::app);
    const uint32_t box = bytes + 8;
    const char header[8] = {char(box >> 24), char(box >> 16), char(box >> 8), char(box), 'f', 'r', 'e', 'e'};
    out.write(header, sizeof header);
    const std::string zeros(1 << 20, '\0');
    for (uint32_t left = bytes; left > 0 && out;) {
        const uint32_t n = std::min<uint32_t>(left, static_cast<uint32_t>(zeros.size()));
        out.write(zeros.data(), n);
        left -= n;
    }
    out.close();
    if (!out)
        throw MediaError(fmt::format("cannot write test video '{}': padding it failed", path));
}

} // namespace jarvis
