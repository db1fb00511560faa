#include "media/video_prefix.hpp"

#include "media/media_error.hpp"
#include "media/mp4_stream_writer.hpp"
#include "media/stream_seek.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace jarvis {
namespace {

// The pixel format a header left unsaid (VP9 in WebM, which MP4's vpcC box needs), found as ffprobe finds it: a reader
// of its own that decodes a little (the source's, opened without that, is not to be probed after the fact). -1 when
// that fails too: the muxer then says what it misses.
int probed_pixel_format(const std::string& path, int stream_index)
{
    AVFormatContext* raw = nullptr;
    if (avformat_open_input(&raw, path.c_str(), nullptr, nullptr) < 0)
        return -1;
    av::FormatContext probe(raw);
    if (avformat_find_stream_info(probe.get(), nullptr) < 0 || stream_index >= static_cast<int>(probe->nb_streams))
        return -1;
    return probe->streams[stream_index]->codecpar->format;
}

} // namespace

int64_t write_video_prefix(MediaSource& source, const std::string& path, double seconds)
{
    const auto fail = [&](const std::string& reason) {
        return MediaError(fmt::format("cannot copy the first {:g} s of '{}': {}", seconds, source.info().source, reason));
    };
    const auto check = [&](int rc, const char* what) {
        if (rc < 0)
            throw fail(std::string(what) + ": " + av::error_string(rc));
    };
    AVStream* in = source.stream();
    try {
        const bool vp9_unsaid = in->codecpar->format < 0 && in->codecpar->codec_id == AV_CODEC_ID_VP9 && !source.info().is_url;
        Mp4StreamWriter copy(*in, path, vp9_unsaid ? probed_pixel_format(source.info().source, source.stream_index()) : -1);

        // Opening may have left the reader past the start: a Matroska file cut short (a recording that crashed) was
        // searched for the cues its header points to beyond its end.
        const int64_t start = in->start_time != AV_NOPTS_VALUE ? in->start_time : 0;
        if (seek_stream(source.format(), source.stream_index(), start, AVSEEK_FLAG_BACKWARD) < 0)
            check(seek_stream(source.format(), -1, 0, AVSEEK_FLAG_BYTE), "returning to its start");

        av::Packet packet(av_packet_alloc());
        if (!packet)
            throw std::bad_alloc();
        int64_t written = 0;
        int64_t first_dts = AV_NOPTS_VALUE;
        for (;;) {
            const int rc = av_read_frame(source.format(), packet.get());
            if (rc == AVERROR_EOF)
                break;
            check(rc, "reading it");
            const bool ours = packet->stream_index == source.stream_index();
            // The cut needs a decoding order's time: the demuxer's, or where it has none the presentation time (a
            // packet without a decoding time comes before any reordering is known: the first ones).
            const int64_t dts = packet->dts != AV_NOPTS_VALUE ? packet->dts : packet->pts;
            const bool before_first_keyframe = first_dts == AV_NOPTS_VALUE && !(packet->flags & AV_PKT_FLAG_KEY);
            if (!ours || dts == AV_NOPTS_VALUE || before_first_keyframe) {
                av_packet_unref(packet.get());
                continue;
            }
            if (first_dts == AV_NOPTS_VALUE)
                first_dts = dts;
            // Cut in decoding order: whatever a picture predicts from came before it.
            if ((double(dts) - double(first_dts)) * av_q2d(in->time_base) >= seconds) { // in double: damaged times overflow int64
                av_packet_unref(packet.get());
                break;
            }
            if (packet->pts == AV_NOPTS_VALUE)
                packet->pts = packet->dts; // no reordering (AVI, raw streams): each is shown when it is decoded
            copy.write(packet.get());
            ++written;
        }
        copy.finish();
        if (written == 0)
            throw fail("it has no keyframe to start from");
        return written;
    } catch (const Mp4StreamWriter::Failure& e) {
        throw fail(e.what());
    }
}

} // namespace jarvis
