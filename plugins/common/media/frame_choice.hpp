#pragma once

#include "config/loadout.hpp"
#include "media/frame_index.hpp"

#include <optional>
#include <string>
#include <vector>

namespace jarvis {

// A frame to send: where it is in the index, and its true presentation time.
struct FrameTarget
{
    size_t position = 0;
    int64_t pts = 0;
    double time_s = 0;
};

struct FrameChoice
{
    std::vector<FrameTarget> targets; // in time order, no frame twice
    double start_s = 0;               // the clip actually sampled
    double end_s = 0;
    std::vector<std::string> warnings;
};

// How many samples a clip of `duration_s` gets at `fps`, at most `max_frames`, at least 2.
int64_t sample_count(double duration_s, double fps, int64_t max_frames);

// The times choose_frames samples at (seconds from the first frame), for a clip ending at `end_s`.
std::vector<double> sample_times(int64_t count, double fps, double start_s, double end_s);

// Samples `count` times from start, 1/fps apart (or spread evenly over the clip when `count` is not what fps gives:
// capped by max_frames or the token budget, or raised to 2), and takes the frame on screen at each ("played-at"),
// or with SeekMode::keyframe the keyframe nearest to it. Frames chosen twice (a video with fewer frames than
// samples) are sent once; at least 2 frames when the clip has them.
// Throws ConfigError when start/end select nothing of the video.
FrameChoice choose_frames(const FrameIndex& index, int64_t count, double fps, std::optional<double> start_s,
                          std::optional<double> end_s, SeekMode mode);

} // namespace jarvis
