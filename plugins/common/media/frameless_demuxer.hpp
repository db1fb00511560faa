#pragma once

#include "media/media_source.hpp"

extern "C" {
#include <libavformat/avformat.h>
}

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace jarvis {

// MP4 and MOV list every frame in their sample tables (its time, place, size and keyframe flag), which the demuxer
// reads when it opens the file. A scan of every packet then reads the frames' bytes only to throw them away: a whole
// 4 GB screen recording before the first frame is decoded. This is a second demuxer of such a file whose reader gives
// the bytes of the chosen stream's samples as zeros without reading them, so that its packets carry the times, flags
// and places the file's own demuxer gives, at the cost of reading the tables.
//
// Only where the tables list every frame ahead and nothing looks at the packets' bytes: a local MP4 or MOV, not
// fragmented (a fragmented file lists its frames in fragments between them), whose sample tables mark keyframes, of H.264,
// HEVC or AV1, whose packets FFmpeg parses only for keyframes at recovery points and a frame's duration, which this
// demuxer leaves off (AVFMT_FLAG_NOPARSE): intervals then start at the sync samples alone, where a decoder is sure to
// start cleanly, and a frame's duration comes from the rate the source's probing estimated.
class FramelessDemuxer
{
public:
    // Nothing where the source is not such a file or the second open fails (the caller then reads every packet).
    static std::unique_ptr<FramelessDemuxer> open(const MediaSource& source, const AVIOInterruptCB& interrupt);
    ~FramelessDemuxer();
    FramelessDemuxer(const FramelessDemuxer&) = delete;
    FramelessDemuxer& operator=(const FramelessDemuxer&) = delete;

    AVFormatContext* format() const { return format_; }
    int stream_index() const { return stream_index_; }

private:
    FramelessDemuxer() = default;
    static int read(void* opaque, uint8_t* buffer, int size);
    static int64_t seek(void* opaque, int64_t offset, int whence);
    // The chosen stream's samples as sorted, merged [start, end) byte ranges within the file.
    void skip_samples_of(const AVStream* stream);

    AVIOContext* file_ = nullptr;  // FFmpeg's reader of the file
    AVIOContext* outer_ = nullptr; // what the demuxer reads
    AVFormatContext* format_ = nullptr;
    int stream_index_ = -1;
    int64_t size_ = 0;
    int64_t position_ = 0;
    std::vector<std::pair<int64_t, int64_t>> skipped_; // empty while the header is read
};

} // namespace jarvis
