#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

namespace jarvis {

// Decoding times made from presentation times, since demuxers leave some out (Matroska's first packets have none)
// and MP4 needs every one: each packet's is the earliest presentation time among it and the `depth` before it not yet
// used, a reorder depth no codec exceeds. They rise, and none is after its packet's presentation time.
class DecodingTimes
{
public:
    explicit DecodingTimes(int64_t frame_ticks) : step_(std::clamp<int64_t>(frame_ticks, 1, int64_t(1) << 32)) {}

    int64_t next(int64_t pts)
    {
        if (waiting_.empty()) { // times before the first frame, a frame apart, to take until the reorder window fills
            // A damaged file's first time can be anything: kept where the subtraction cannot overflow (the muxer then
            // refuses what is out of order, with a message).
            const int64_t first = std::max(pts, std::numeric_limits<int64_t>::min() / 2);
            for (int64_t i = depth; i > 0; --i)
                waiting_.push_back(first - i * step_);
        }
        waiting_.insert(std::upper_bound(waiting_.begin(), waiting_.end(), pts), pts);
        const int64_t earliest = waiting_.front();
        waiting_.erase(waiting_.begin());
        return earliest;
    }

private:
    static constexpr int64_t depth = 16;
    int64_t step_;
    std::vector<int64_t> waiting_;
};

} // namespace jarvis
