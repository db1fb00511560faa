#pragma once

extern "C" {
#include <libavformat/avformat.h>
}

#include <cstdint>

namespace jarvis {

// av_seek_frame(fmt, stream_index, pts, flags), with its result, for every demuxer this module reads. FFmpeg's image2
// demuxer reads a single picture file (a photo handed over as a video) through the context's own reader, which its seek
// leaves where the last read ended: that reader is moved back to the start, or the picture could not be read again.
int seek_stream(AVFormatContext* fmt, int stream_index, int64_t pts, int flags);

} // namespace jarvis
