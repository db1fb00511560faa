#include "media/video_streams.hpp"

#include "media/ffmpeg_compat.hpp"

extern "C" {
#include <libavutil/display.h>
}

#include <fmt/format.h>

#include <cmath>
#include <utility>

namespace jarvis {

int rotation_of(const AVStream* stream)
{
    const int32_t* matrix = av::display_matrix(stream);
    if (matrix == nullptr)
        return 0;
    // av_display_rotation_get is counter-clockwise; players rotate clockwise by its negation.
    const double ccw = av_display_rotation_get(matrix);
    if (std::isnan(ccw))
        return 0;
    int cw = static_cast<int>(std::lround(-ccw)) % 360;
    if (cw < 0)
        cw += 360;
    return (cw + 45) / 90 * 90 % 360; // snap to a right angle, as players do
}

int choose_video_stream(AVFormatContext* fmt)
{
    const int best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (best >= 0 && !(fmt->streams[best]->disposition & AV_DISPOSITION_ATTACHED_PIC))
        return best;
    int chosen = -1;
    int64_t chosen_area = -1;
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
        const AVStream* s = fmt->streams[i];
        if (s->codecpar->codec_type != AVMEDIA_TYPE_VIDEO || (s->disposition & AV_DISPOSITION_ATTACHED_PIC))
            continue;
        const int64_t area = int64_t(s->codecpar->width) * s->codecpar->height;
        if (area > chosen_area) {
            chosen = static_cast<int>(i);
            chosen_area = area;
        }
    }
    return chosen;
}

std::string describe_video_stream(const AVFormatContext* fmt, int index)
{
    const AVCodecParameters* par = fmt->streams[index]->codecpar;
    return fmt::format("stream {}: {} {}x{}", index, avcodec_get_name(par->codec_id), par->width, par->height);
}

OtherLoadersStreams other_loaders_streams(const AVFormatContext* fmt, int chosen)
{
    OtherLoadersStreams other;
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
        if (fmt->streams[i]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO)
            continue;
        if (static_cast<int>(i) != chosen)
            other.first_video_stream = describe_video_stream(fmt, static_cast<int>(i));
        break;
    }
    const int best = av_find_best_stream(const_cast<AVFormatContext*>(fmt), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (best >= 0 && best != chosen)
        other.best_video_stream = describe_video_stream(fmt, best);
    return other;
}

std::pair<int, int> displayed_size(AVFormatContext* fmt, const AVStream* st)
{
    const AVRational sar = av_guess_sample_aspect_ratio(fmt, const_cast<AVStream*>(st), nullptr);
    int w = st->codecpar->width;
    int h = st->codecpar->height;
    if (sar.num > 0 && sar.den > 0 && sar.num != sar.den)
        w = static_cast<int>(std::lround(double(w) * sar.num / sar.den));
    const int rotation = rotation_of(st);
    if (rotation == 90 || rotation == 270)
        std::swap(w, h);
    return {w, h};
}

void read_only_stream(AVFormatContext* fmt, int chosen)
{
    for (unsigned i = 0; i < fmt->nb_streams; ++i)
        fmt->streams[i]->discard = static_cast<int>(i) == chosen ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
}

bool header_describes_video(const AVFormatContext* fmt)
{
    if (fmt->ctx_flags & AVFMTCTX_NOHEADER)
        return false;
    bool any_video = false;
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
        const AVStream* s = fmt->streams[i];
        if (s->codecpar->codec_type != AVMEDIA_TYPE_VIDEO || (s->disposition & AV_DISPOSITION_ATTACHED_PIC))
            continue;
        any_video = true;
        // The pixel format is left out: headers rarely carry it, and the decoder learns it from the first frame.
        if (s->codecpar->codec_id == AV_CODEC_ID_NONE || s->codecpar->width <= 0 || s->codecpar->height <= 0 ||
            (s->avg_frame_rate.num <= 0 && s->r_frame_rate.num <= 0))
            return false;
    }
    return any_video;
}

} // namespace jarvis
