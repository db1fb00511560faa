#pragma once

#include "media/media_source.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace jarvis {

// Every presented frame of a video stream in presentation order, from a demux-only scan (no decoding): the truth
// for frame times, where container headers are missing (WebM, raw streams) or wrong (VFR, edit lists, truncation).
struct FrameIndex
{
    struct Entry
    {
        int64_t pts = 0;      // in the stream's time base
        int64_t keyframe = 0; // position (in `frames`) of the keyframe that decoding this frame starts from
        bool key = false;
    };

    std::vector<Entry> frames;  // sorted by pts
    AVRational time_base{1, 1};
    int64_t origin_pts = 0;     // the first presented frame: time 0
    double end_s = 0;           // when the last frame stops being shown, seconds from the origin
    std::string damage;         // why the file looks truncated or damaged; empty when it does not

    // In double: a damaged file's timestamps can be anything, AV_NOPTS_VALUE included, where int64 arithmetic
    // would overflow.
    double seconds(int64_t pts) const { return (double(pts) - double(origin_pts)) * av_q2d(time_base); }
    // To the nearest tick: a time meant to be a frame's (k / fps) can come out a rounding error short of its pts, or
    // half a tick off it where the container's clock is coarse (Matroska's milliseconds); truncating would take the
    // frame before.
    int64_t pts_at(double seconds) const
    {
        const double pts = std::floor(double(origin_pts) + seconds / av_q2d(time_base) + 0.5);
        constexpr double limit = 9.0e18; // inside int64, so that the conversion is defined
        return pts != pts ? origin_pts : static_cast<int64_t>(std::clamp(pts, -limit, limit));
    }
    // Position of the frame on screen at `seconds` (the last one whose pts is not after it).
    size_t played_at(double seconds) const;
    // Position of the keyframe nearest in time to `seconds`.
    size_t nearest_keyframe(double seconds) const;
};

// The longest stretch between two frames, as seconds from the origin, when it is far longer than the frames' usual
// spacing (over 4 times the median, and over half a second); nothing otherwise.
struct FrameGap
{
    double from_s = 0;
    double to_s = 0;
};
std::optional<FrameGap> unusual_gap(const FrameIndex& index);

// The fraction of the file read so far, reported now and then during a scan (not at all when the size is unknown).
using ScanProgress = std::function<void(double)>;

// Scans `source`'s chosen stream, reading its every packet: the whole file, or the whole download for a URL; of a
// local MP4 or MOV of H.264, HEVC or AV1, only the sample tables (frameless_demuxer.hpp). Throws MediaError when no
// frame is found. `interrupted` is polled between packets.
FrameIndex scan_frame_index(MediaSource& source, const MediaSource::InterruptCheck& interrupted, const ScanProgress& progress = {});
// The same scan reading every packet's bytes, whatever the container: what the sample tables' scan is held to.
FrameIndex scan_frame_index_reading_every_packet(MediaSource& source, const MediaSource::InterruptCheck& interrupted,
                                                 const ScanProgress& progress = {});

// Indexes of recently used local files, keyed by path, size and modification time, so that repeated questions
// about one video skip the scan. With `scan_if_missing` false it only looks (and may return nothing).
std::shared_ptr<const FrameIndex> cached_frame_index(MediaSource& source, const MediaSource::InterruptCheck& interrupted,
                                                     bool scan_if_missing = true, const ScanProgress& progress = {});

// An index of just the keyframes at or before each of `times` (seconds from the first frame), found by seeking,
// without reading the whole file: what seek=keyframe needs, at a cost that grows with the frames taken, not the
// video's length. Returns nothing when the container has no sample index, cannot say its duration, or does not land
// on keyframes, so the caller scans instead.
std::optional<FrameIndex> keyframe_index_by_seeking(MediaSource& source, const std::vector<double>& times);

// An index of just the frames exact mode needs for `times`: for each, the frames from the keyframe at or before it
// up to it, found by seeking, so that a few frames of a long video read a few keyframe intervals, not the whole file.
// Every frame shown up to each time is in it, with the keyframe its interval decodes from; end_s is the header's
// duration. Returns nothing where keyframe_index_by_seeking would (no sample index, no duration, seeking that does
// not land on keyframes) and where a time finds no frame (a truncated file), so the caller scans instead.
std::optional<FrameIndex> interval_index_by_seeking(MediaSource& source, const std::vector<double>& times,
                                                    const MediaSource::InterruptCheck& interrupted);

} // namespace jarvis
