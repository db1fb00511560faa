#include "media/container_index.hpp"

#include "media/matroska_segment.hpp"
#include "media/media_source.hpp"
#include "media/stream_seek.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>

namespace jarvis {

bool is_matroska(const AVFormatContext* fmt)
{
    return fmt->iformat != nullptr && std::string_view(fmt->iformat->name).find("matroska") != std::string_view::npos;
}

void load_deferred_index(AVFormatContext* fmt, int stream_index)
{
    const AVStream* st = fmt->streams[stream_index];
    const bool seekable = fmt->pb != nullptr && (fmt->pb->seekable & AVIO_SEEKABLE_NORMAL);
    if (!is_matroska(fmt) || !seekable || avformat_index_get_entries_count(st) > 1)
        return;
    // A failed seek leaves the index as it was, and the frames are then found by a scan: nothing to report. The seek
    // also makes the demuxer start at the first keyframe: packets before it (a stream cut mid-GOP) have no keyframe to
    // decode from and would only give damaged pictures.
    seek_stream(fmt, stream_index, st->start_time != AV_NOPTS_VALUE ? st->start_time : 0, AVSEEK_FLAG_BACKWARD);
}

void read_index(AVIOContext* pb, const AVStream* st, MediaInfo& info)
{
    const int64_t file_size = pb != nullptr ? avio_size(pb) : -1;
    const int64_t origin = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
    const int entries = avformat_index_get_entries_count(st);
    const bool every_frame_listed = st->nb_frames > 0 && entries >= st->nb_frames && info.avg_fps > 0;
    bool past_end = false;
    int64_t last_inside = AV_NOPTS_VALUE;
    int64_t first_listed = AV_NOPTS_VALUE;
    int64_t listed = 0;
    for (int i = 0; i < entries; ++i) {
        const AVIndexEntry* e = avformat_index_get_entry(const_cast<AVStream*>(st), i);
        if (e == nullptr)
            continue;
        if (e->flags & AVINDEX_KEYFRAME)
            ++info.indexed_keyframes;
        if (every_frame_listed && !(e->flags & AVINDEX_DISCARD_FRAME)) { // an edit list's cut frames are never shown
            if (first_listed == AV_NOPTS_VALUE)
                first_listed = e->timestamp;
            const double true_s = (double(e->timestamp) - double(first_listed)) * av_q2d(st->time_base);
            info.average_rate_error_s = std::max(info.average_rate_error_s, std::fabs(true_s - double(listed++) / info.avg_fps));
        }
        if (file_size <= 0 || e->pos < 0 || e->size <= 0)
            continue;
        if (e->pos > file_size - e->size)
            past_end = true;
        else if (last_inside == AV_NOPTS_VALUE || e->timestamp > last_inside)
            last_inside = e->timestamp;
    }
    if (past_end)
        info.index_cut_at_s = last_inside == AV_NOPTS_VALUE ? 0.0 : std::max(0.0, (double(last_inside) - double(origin)) * av_q2d(st->time_base));
}

void read_matroska_extent(AVFormatContext* fmt, MediaInfo& info, const UrlRangeCache* url_cache)
{
    AVIOContext* pb = fmt->pb;
    // A URL's first bytes are read again from its range cache; without room in one, the check would cost two requests
    // more.
    const bool url_without_room = info.is_url && (url_cache == nullptr || url_cache->capacity() == 0);
    if (url_without_room || info.index_cut_at_s || !is_matroska(fmt) || pb == nullptr || !(pb->seekable & AVIO_SEEKABLE_NORMAL))
        return;
    const int64_t file_size = avio_size(pb);
    const int64_t resume_at = avio_tell(pb);
    if (file_size <= 0 || resume_at < 0 || avio_seek(pb, 0, SEEK_SET) < 0)
        return;
    uint8_t head[128];
    const int got = avio_read(pb, head, sizeof head);
    // The demuxer goes on from where it was.
    if (avio_seek(pb, resume_at, SEEK_SET) < 0 || got <= 0)
        return;
    const auto segment = matroska::segment_extent(head, static_cast<size_t>(got));
    const auto size = static_cast<uint64_t>(file_size);
    if (!segment || size >= segment->end || size <= segment->begin)
        return;
    const double share = double(size - segment->begin) / double(segment->end - segment->begin);
    info.index_cut_at_s = info.duration_s * share;
}

} // namespace jarvis
