#pragma once

#include "media/av_handles.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace jarvis {

// One stream of a video written into an MP4 of its own, packets as they are (nothing is re-encoded, so any FFmpeg
// build makes it), in the stream's own time base. MP4 needs a decoding time for every packet, which demuxers leave
// out (Matroska's first packets) or give out of order: they are made from the presentation times instead.
class Mp4StreamWriter
{
public:
    // What failed, with the file, and FFmpeg's reason: "writing a packet to /tmp/x.mp4 failed: Invalid argument".
    struct Failure : std::runtime_error
    {
        using std::runtime_error::runtime_error;
    };

    // Creates `path` (UTF-8) for the stream `in` describes; `pixel_format` fills in one its parameters leave unsaid
    // (VP9 from WebM, which MP4's vpcC box needs). Throws Failure.
    Mp4StreamWriter(const AVStream& in, const std::string& path, int pixel_format = -1);

    // A packet of `in`, with its presentation time; the writer takes it (it is blank afterwards). Throws Failure, for
    // instance when presentation times go back further than any codec reorders.
    void write(AVPacket* packet);
    // Writes the index and closes the file. Throws Failure.
    void finish();
    int64_t bytes_written() const { return avio_tell(out_->pb); }

private:
    // The decoding time of the next packet: the earliest presentation time among it and the `depth` before it not
    // yet used, a reorder depth no codec exceeds. They rise, and none is after its packet's presentation time.
    int64_t next_decoding_time(int64_t pts);

    static constexpr int64_t depth = 16;
    std::string path_;
    AVRational in_base_;
    int64_t frame_ticks_ = 1;
    std::vector<int64_t> waiting_; // presentation times not yet used as decoding times, sorted
    av::OutputContext out_;
    AVStream* copy_ = nullptr;
};

} // namespace jarvis
