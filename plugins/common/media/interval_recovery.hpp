#pragma once

#include "media/interval_decode_loop.hpp"

#include <string>
#include <vector>

namespace jarvis {

// The targets of one keyframe interval (what one worker decodes in one go) and their frames.
struct Interval
{
    std::vector<FrameTarget> targets;
    std::vector<EncodedFrame> frames;
};

// Decodes intervals with a worker's loop and recovers from what goes wrong on the way:
//  - damage in an interval decoded with an H.264 plan: decoded again without the plan (FFmpeg conceals damage from
//    the reference pictures it has, so skipping changes what it conceals with);
//  - a target the decoder held back (a recovery point, intra refresh): decoded from one keyframe earlier;
//  - targets past the last decodable frame (a truncated file): the last frame that decoded stands in, with a warning;
//  - a keyframe target that is a recovery point: decoded from the keyframe before.
class IntervalRecovery
{
public:
    IntervalRecovery(const ExtractionRequest& request, const FrameIndex& index, IntervalDecodeLoop& loop)
        : request_(request), index_(index), loop_(loop)
    {
    }

    void decode_interval(Interval& interval);
    void decode_keyframe(Interval& interval);

    size_t skipped_references() const { return skipped_references_; }
    size_t pictures_decoded() const { return loop_.pictures_decoded(); }
    std::vector<std::string> warnings() const;

private:
    void start_over(IntervalAttempt& attempt, DecodePolicy& policy, DamageCount before);

    const ExtractionRequest& request_;
    const FrameIndex& index_;
    IntervalDecodeLoop& loop_;
    size_t skipped_references_ = 0;
    std::vector<std::string> warnings_;
};

} // namespace jarvis
