#include "media/interval_recovery.hpp"

#include "media/media_error.hpp"

#include <fmt/format.h>

namespace jarvis {

void IntervalRecovery::decode_interval(Interval& interval)
{
    IntervalAttempt attempt{interval.targets, interval.frames};
    const size_t key = index_.frames[interval.targets.front().position].keyframe;
    DecodePolicy policy(interval.targets);
    if (DecodePolicy::worth_planning(request_))
        skipped_references_ += policy.plan_h264(*request_.codec, index_.frames[key].pts, loop_.packets_from(key));
    const DamageCount before = loop_.damage();
    using Stop = IntervalDecodeLoop::Stop;
    Stop stop = loop_.decode_from(key, policy, attempt, true);
    if (policy.has_plan() && attempt.errors_seen && !loop_.stopped()) {
        start_over(attempt, policy, before);
        stop = loop_.decode_from(key, policy, attempt, true);
    }
    if (((stop == Stop::drained_early && !attempt.complete()) || attempt.held_back) && !loop_.stopped()) {
        // After a recovery point, pictures are not output until they are whole: start one keyframe earlier, so that
        // they are by the targets' time.
        start_over(attempt, policy, before);
        loop_.decode_from(key > 0 ? index_.frames[key - 1].keyframe : key, policy, attempt, false);
    }
    if (!attempt.complete() && !loop_.stopped()) {
        const double last_s = loop_.last_frame_time_s();
        if (!loop_.fill_with_last_frame(attempt)) {
            // A server that stops sending looks to the demuxer like damage where it stopped.
            if (loop_.reads_url())
                throw MediaError(fmt::format("cannot use video '{}': nothing could be read or decoded from {:.2f} s on (its server "
                                             "stopped sending, or the file is damaged there)",
                                             request_.source, interval.targets.front().time_s));
            throw MediaError(fmt::format("cannot use video '{}': no frame of it could be decoded", request_.source));
        }
        warnings_.push_back(fmt::format("frames after {:.2f} s could not be decoded (damaged or truncated file); the last "
                                        "decodable frame stands in, reported at its own time",
                                        last_s));
    }
}

void IntervalRecovery::decode_keyframe(Interval& interval)
{
    const FrameTarget& target = interval.targets.front();
    IntervalAttempt attempt{interval.targets, interval.frames};
    loop_.decode_keyframe_packet(target, attempt);
    if (attempt.next == 0 && target.position > 0) {
        // A keyframe that is a recovery point (intra refresh) is not a whole picture on its own: decode up to it from
        // the keyframe before.
        const DecodePolicy policy({target});
        loop_.decode_from(index_.frames[target.position - 1].keyframe, policy, attempt, false);
    }
    if (attempt.next == 0)
        throw MediaError(fmt::format("cannot use video '{}': its keyframe at {:.2f} s could not be decoded", request_.source,
                                     target.time_s));
}

std::vector<std::string> IntervalRecovery::warnings() const
{
    std::vector<std::string> out = warnings_;
    const DamageCount damage = loop_.damage();
    if (damage.packets > 0)
        out.push_back(fmt::format("{} damaged packet(s) of '{}' were skipped", damage.packets, request_.source));
    if (damage.frames > 0)
        out.push_back(fmt::format("{} decoded frame(s) of '{}' had damage that FFmpeg concealed", damage.frames, request_.source));
    return out;
}

// Forgets what an attempt produced, and the plan, before another attempt (the plan's skipping is what may have
// changed the result).
void IntervalRecovery::start_over(IntervalAttempt& attempt, DecodePolicy& policy, DamageCount before)
{
    loop_.discard(attempt);
    policy.drop_plan();
    loop_.restore_damage(before);
}

} // namespace jarvis
