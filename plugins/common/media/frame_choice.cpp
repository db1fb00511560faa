#include "media/frame_choice.hpp"

#include "config/config_error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace jarvis {

namespace {
// Samples a clip holds at fps. The slack absorbs timestamp rounding (Matroska's millisecond clock makes a 4 s clip
// at 24 fps end at 3.999 s).
int64_t samples_in(double duration_s, double fps) { return static_cast<int64_t>(std::floor(duration_s * fps + 0.01)); }
} // namespace

int64_t sample_count(double duration_s, double fps, int64_t max_frames)
{
    const int64_t n = samples_in(duration_s, fps);
    return std::clamp<int64_t>(n, 2, std::max<int64_t>(2, max_frames));
}

std::vector<double> sample_times(int64_t count, double fps, double start_s, double end_s)
{
    const double clip = end_s - start_s;
    const int64_t natural = samples_in(clip, fps);
    const double step = count == natural ? 1.0 / fps : clip / static_cast<double>(std::max<int64_t>(count, 1));
    std::vector<double> times;
    for (int64_t k = 0; k < count; ++k)
        times.push_back(start_s + static_cast<double>(k) * step);
    return times;
}

FrameChoice choose_frames(const FrameIndex& index, int64_t count, double fps, std::optional<double> start_s,
                          std::optional<double> end_s, SeekMode mode)
{
    FrameChoice c;
    c.start_s = start_s.value_or(0);
    c.end_s = end_s.value_or(index.end_s);
    // A video whose frames have no length (one picture, its duration unknown) ends where it starts: it is sampled at
    // that picture, and a start of 0 (the default) is not the user's to be wrong about.
    if (c.start_s > 0 && c.start_s >= index.end_s)
        throw ConfigError(fmt::format("start={} is at or after the end of the video ({:.2f} s)", c.start_s, index.end_s));
    if (c.end_s > index.end_s) {
        c.warnings.push_back(fmt::format("end={} is after the end of the video; sampling up to {:.2f} s", c.end_s, index.end_s));
        c.end_s = index.end_s;
    }
    const size_t first_in_clip = index.played_at(c.start_s);
    size_t last_in_clip = index.played_at(c.end_s);
    if (last_in_clip > first_in_clip && index.seconds(index.frames[last_in_clip].pts) >= c.end_s) // it starts as the clip ends
        --last_in_clip;

    std::vector<size_t> positions;
    for (const double t : sample_times(count, fps, c.start_s, c.end_s))
        positions.push_back(mode == SeekMode::keyframe ? index.nearest_keyframe(t) : index.played_at(t));
    std::sort(positions.begin(), positions.end());
    positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
    if (positions.size() < 2 && last_in_clip > first_in_clip && mode == SeekMode::exact)
        positions = {first_in_clip, last_in_clip};
    for (size_t p : positions)
        c.targets.push_back({p, index.frames[p].pts, index.seconds(index.frames[p].pts)});
    if (static_cast<int64_t>(c.targets.size()) < count)
        c.warnings.push_back(fmt::format("the clip has {} distinct {}{} for {} samples; each is sent once", c.targets.size(),
                                         mode == SeekMode::keyframe ? "keyframe" : "frame", c.targets.size() == 1 ? "" : "s", count));
    return c;
}

} // namespace jarvis
