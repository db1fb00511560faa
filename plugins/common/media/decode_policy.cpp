#include "media/decode_policy.hpp"

#include "media/h264_references.hpp"

namespace jarvis {

DecodePolicy::DecodePolicy(const std::vector<FrameTarget>& targets)
{
    for (const auto& t : targets)
        target_pts_.insert(t.pts);
}

bool DecodePolicy::worth_planning(const ExtractionRequest& request)
{
    return request.skip_unused_references && request.codec->codec_id == AV_CODEC_ID_H264 && !is_http_url(request.read_from()) &&
           h264::replay_matches_this_ffmpeg();
}

size_t DecodePolicy::plan_h264(const AVCodecParameters& codec, int64_t key_pts, const std::function<const AVPacket*()>& next_packet)
{
    plan_.clear();
    h264::ReferenceAnalysis analysis(codec.extradata, static_cast<size_t>(codec.extradata_size));
    if (!analysis.usable())
        return 0;
    std::vector<int64_t> order;
    size_t targets_seen = 0;
    while (targets_seen < target_pts_.size()) {
        const AVPacket* packet = next_packet();
        if (!packet)
            break;
        const int64_t pts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
        // Packets before the keyframe (demuxers that land early) are skipped when decoding; the IDR resets all.
        if (order.empty() && pts != key_pts)
            continue;
        const bool target = is_target(pts);
        analysis.add_picture(packet->data, static_cast<size_t>(packet->size), target);
        order.push_back(pts);
        targets_seen += target ? 1 : 0;
    }
    if (targets_seen < target_pts_.size()) // the index and this read disagree: decode as without a plan
        return 0;
    const std::optional<h264::DecodePlan> plan = analysis.pictures_to_decode();
    if (!plan || plan->skipped_references == 0)
        return 0;
    for (size_t i = 0; i < order.size(); ++i)
        if (!plan_.emplace(order[i], plan->decode[i]).second) { // two packets with one pts: not something to rely on
            plan_.clear();
            return 0;
        }
    return plan->skipped_references;
}

AVDiscard DecodePolicy::discard_for(int64_t pts) const
{
    if (plan_.empty())
        return is_target(pts) ? AVDISCARD_DEFAULT : AVDISCARD_NONREF;
    const auto decision = plan_.find(pts);
    return decision != plan_.end() && decision->second ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
}

} // namespace jarvis
