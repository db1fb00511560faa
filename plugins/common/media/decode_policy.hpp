#pragma once

#include "media/frame_extractor.hpp"

#include <functional>
#include <map>
#include <set>

namespace jarvis {

// Which packets of one keyframe interval are decoded: the targets always; of the others, only what the targets
// need. Without a plan that is every reference picture (AVDISCARD_NONREF); with an H.264 plan, only the reference
// pictures the targets depend on (h264_references.hpp).
class DecodePolicy
{
public:
    explicit DecodePolicy(const std::vector<FrameTarget>& targets);

    // Whether reading the interval's headers ahead of decoding can pay for itself here: H.264 this FFmpeg's replay
    // matches, asked for, and not over the network (the interval would be fetched twice).
    static bool worth_planning(const ExtractionRequest& request);

    // Works out the H.264 pictures the targets depend on from the interval's packets in decoding order, from the
    // keyframe (`next_packet` gives them, nullptr at the end). Keeps no plan when nothing would be skipped, the
    // stream is not modelled or the packets disagree with the index. Returns the reference pictures it skips.
    size_t plan_h264(const AVCodecParameters& codec, int64_t key_pts, const std::function<const AVPacket*()>& next_packet);

    bool is_target(int64_t pts) const { return target_pts_.count(pts) != 0; }
    size_t target_count() const { return target_pts_.size(); }
    bool has_plan() const { return !plan_.empty(); }
    void drop_plan() { plan_.clear(); }
    AVDiscard discard_for(int64_t pts) const;

private:
    std::set<int64_t> target_pts_;
    std::map<int64_t, bool> plan_; // pts -> decode it (H.264 with pictures worth skipping; empty otherwise)
};

} // namespace jarvis
