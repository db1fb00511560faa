#pragma once

#include "media/url_range_cache.hpp"

extern "C" {
#include <libavformat/avformat.h>
}

namespace jarvis {

struct MediaInfo;

// What a container's own index (MP4's sample tables, Matroska's cues) tells about a video without reading it.

bool is_matroska(const AVFormatContext* fmt);

// Matroska reads its cues (usually at the file's end) on the first seek, not with the header. A seek to the start loads
// them and leaves the reader where a scan begins; without them a long recording (OBS writes Matroska) would always be
// read whole, never by the intervals its frames need.
void load_deferred_index(AVFormatContext* fmt, int stream_index);

// What the demuxer's index tells: the keyframes; whether the file holds every frame listed (`pb` gives its size); and,
// where every frame is listed (MP4; cues list keyframes only), how far counting frames at the average rate strays from
// their times, since their decoding times are evenly spaced at a constant rate whatever the B-frames.
void read_index(AVIOContext* pb, const AVStream* st, MediaInfo& info);

// A Matroska file cut short (a download or a copy stopped midway) loses its cues with its end, so its index cannot
// tell; its first bytes still give the Segment's full size. Where the file ends before the Segment does, the data is
// taken to end at the same share of the duration as of the Segment's bytes.
void read_matroska_extent(AVFormatContext* fmt, MediaInfo& info, const UrlRangeCache* url_cache);

} // namespace jarvis
