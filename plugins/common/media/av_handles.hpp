#pragma once

// RAII owners for FFmpeg handles. Each deleter calls the matching *_free/*_close, which accept NULL.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>

namespace jarvis::av {

struct FormatContextCloser
{
    void operator()(AVFormatContext* p) const { avformat_close_input(&p); }
};
// A muxer's context: its file (when it has one) closed, then the context freed.
struct OutputContextCloser
{
    void operator()(AVFormatContext* p) const
    {
        if (p == nullptr)
            return;
        if (p->pb != nullptr && !(p->oformat->flags & AVFMT_NOFILE))
            avio_closep(&p->pb);
        avformat_free_context(p);
    }
};
struct CodecContextFreer
{
    void operator()(AVCodecContext* p) const { avcodec_free_context(&p); }
};
struct FrameFreer
{
    void operator()(AVFrame* p) const { av_frame_free(&p); }
};
struct PacketFreer
{
    void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsFreer
{
    void operator()(SwsContext* p) const { sws_freeContext(p); }
};
struct DictionaryFreer
{
    void operator()(AVDictionary* p) const { av_dict_free(&p); }
};
struct CodecParametersFreer
{
    void operator()(AVCodecParameters* p) const { avcodec_parameters_free(&p); }
};
struct IoContextCloser
{
    void operator()(AVIOContext* p) const { avio_closep(&p); }
};
struct BufferUnref
{
    void operator()(AVBufferRef* p) const { av_buffer_unref(&p); }
};

using FormatContext = std::unique_ptr<AVFormatContext, FormatContextCloser>;
using OutputContext = std::unique_ptr<AVFormatContext, OutputContextCloser>;
using CodecContext = std::unique_ptr<AVCodecContext, CodecContextFreer>;
using Frame = std::unique_ptr<AVFrame, FrameFreer>;
using Packet = std::unique_ptr<AVPacket, PacketFreer>;
using Sws = std::unique_ptr<SwsContext, SwsFreer>;
using IoContext = std::unique_ptr<AVIOContext, IoContextCloser>;
using BufferRef = std::unique_ptr<AVBufferRef, BufferUnref>; // a hardware device or frames context, among others

// av_err2str is a compound-literal macro that g++ rejects; this is its C++ equivalent.
inline std::string error_string(int code)
{
    char buffer[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(code, buffer, sizeof buffer);
    return buffer;
}

} // namespace jarvis::av
