// The few FFmpeg calls whose form changed between the FFmpeg this project ships with (5.1, Debian 12) and newer
// ones (7.1, Debian 13, checked by scripts/check_ffmpeg_versions.sh): stream side data moved into the codec
// parameters and the frame's interlaced and key flags into AVFrame::flags (FFmpeg 6.1), and the old forms are gone
// or deprecated since. FFmpeg 7.0 and later also read HEIF photos (5.1 refuses them), a grid of tiles as a group of
// streams, one per tile.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
}

#include <cstddef>
#include <cstdint>

namespace jarvis::av {

// The stream's display matrix (nine int32), or nullptr when it has none.
inline const int32_t* display_matrix(const AVStream* stream)
{
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 31, 100)
    const AVPacketSideData* side = av_packet_side_data_get(stream->codecpar->coded_side_data, stream->codecpar->nb_coded_side_data,
                                                           AV_PKT_DATA_DISPLAYMATRIX);
    if (side == nullptr || side->size < 9 * sizeof(int32_t))
        return nullptr;
    return reinterpret_cast<const int32_t*>(side->data);
#else
    size_t size = 0;
    const uint8_t* matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (matrix == nullptr || size < 9 * sizeof(int32_t))
        return nullptr;
    return reinterpret_cast<const int32_t*>(matrix);
#endif
}

inline bool is_interlaced(const AVFrame& frame)
{
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(58, 29, 100)
    return (frame.flags & AV_FRAME_FLAG_INTERLACED) != 0;
#else
    return frame.interlaced_frame != 0;
#endif
}

inline bool top_field_first(const AVFrame& frame)
{
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(58, 29, 100)
    return (frame.flags & AV_FRAME_FLAG_TOP_FIELD_FIRST) != 0;
#else
    return frame.top_field_first != 0;
#endif
}

inline bool is_key_frame(const AVFrame& frame)
{
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(58, 29, 100)
    return (frame.flags & AV_FRAME_FLAG_KEY) != 0;
#else
    return frame.key_frame != 0;
#endif
}

// Whether the file's picture is put together from tiles (a HEIF or AVIF grid: a stream group FFmpeg does not
// assemble, each tile a stream of its own); false where this FFmpeg does not read grids.
inline bool is_grid_picture(const AVFormatContext* fmt)
{
#if LIBAVFORMAT_VERSION_INT >= AV_VERSION_INT(60, 22, 100)
    for (unsigned i = 0; i < fmt->nb_stream_groups; ++i)
        if (fmt->stream_groups[i]->type == AV_STREAM_GROUP_PARAMS_TILE_GRID)
            return true;
#else
    (void)fmt;
#endif
    return false;
}

} // namespace jarvis::av
