#pragma once

// Which pictures of an H.264 keyframe interval the targets really predict from, so that reference pictures nothing
// needed uses can be skipped too, not only non-reference ones. In OBS-style x264 encodes (ref=1, b-pyramid) about a
// third of the reference pictures are B-frames that only their neighbours use.
//
// FFmpeg's reference handling is replayed from the slice headers: the decoded-picture buffer (sliding window,
// memory management operation 1), picture order counts, the initial P and B reference lists and their
// modifications. FFmpeg never sees a skipped picture and fills its frame_num with a placeholder frame (sliding-window
// marking, a picture order count of its own), so the buffer it has can differ from the stream's. The replay is
// therefore run twice: once decoding everything (the truth: which pictures each picture's lists name) and once with
// the skips; wherever a decoded picture's lists or order count would differ, the last skipped reference picture
// before it is decoded after all, until none differs. Long-term references, field coding, picture order count type 1,
// frame_num gaps in the stream and unreadable headers are not modelled: then every picture is decoded.

#include "media/h264_headers.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace jarvis::h264 {

// The replay models FFmpeg's H.264 decoder as of 5.1 and 7.1 (libavcodec 59.37 and 61.19 up to their next major):
// its sliding window, the frame_num placeholders it invents and how it sorts B lists. On another FFmpeg a difference
// would not fail, it would decode wrong pictures; so the replay is used only where the libavcodec built against and
// the one running are both of a checked series. JARVIS_H264_REPLAY_UNCHECKED=1 in the environment uses it on any
// FFmpeg: that is how scripts/check_ffmpeg_versions.sh runs the bit-exact tests to find out whether another FFmpeg
// still matches.
bool replay_matches_this_ffmpeg();

// One picture's headers, as the analysis keeps them.
struct PictureHeaders
{
    bool target = false;
    bool readable = true;
    std::vector<SliceHeader> slices;
    Sps sps;
};

// For each picture added, whether it must be decoded, and how many reference pictures need not be.
struct DecodePlan
{
    std::vector<bool> decode;
    size_t skipped_references = 0;
};

class ReferenceAnalysis
{
public:
    // `extradata` as in AVCodecParameters. Not usable (`usable()` false) when it is not H.264's.
    ReferenceAnalysis(const uint8_t* extradata, size_t extradata_size);

    bool usable() const { return usable_; }

    // One access unit (one packet) in decode order.
    void add_picture(const uint8_t* data, size_t size, bool target);

    // Nothing when the interval cannot be modelled: then decode it all.
    std::optional<DecodePlan> pictures_to_decode() const;

private:
    ParameterSets sets_;
    int length_size_ = 0;
    bool usable_ = false;
    std::vector<PictureHeaders> pictures_;
};

} // namespace jarvis::h264
