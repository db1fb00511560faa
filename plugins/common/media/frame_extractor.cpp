#include "media/frame_extractor.hpp"

#include "media/h264_references.hpp"
#include "media/media_error.hpp"
#include "media/picture.hpp"

#include <jarvis/plugin_adapter.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace jarvis {
namespace {

// A packet's presentation time, or its decoding time where the container gives none (as the index does).
int64_t packet_time(const AVPacket& packet)
{
    return packet.pts != AV_NOPTS_VALUE ? packet.pts : packet.dts;
}

// The targets of one keyframe interval: what one worker decodes in one go.
struct Interval
{
    std::vector<FrameTarget> targets;
    std::vector<EncodedFrame> frames;
};

// What the workers share: the intervals to take (in `order`), and a stop flag.
struct WorkQueue
{
    std::vector<Interval>& intervals;
    std::vector<size_t> order;
    std::atomic<size_t> next{0};
    std::atomic<bool> stop{false};
    std::atomic<size_t> done{0}; // frames encoded
};

// One worker's demuxer, decoder, converter and encoder, reused for every interval it takes.
class IntervalDecoder
{
public:
    IntervalDecoder(const ExtractionRequest& request, const FrameIndex& index, WorkQueue& work, int decoder_threads)
        : request_(request), index_(index), work_(work),
          source_(MediaSource::open_for_decoding(request.source, request.stream_index, [&work] { return work.stop.load(); },
                                                  request.io_timeout_s)),
          converter_(request.width, request.height, request.rotation_deg, request.codec->field_order), encoder_(request.jpeg_quality)
    {
        const AVCodec* decoder = avcodec_find_decoder(request.codec->codec_id);
        codec_.reset(avcodec_alloc_context3(decoder));
        if (!codec_)
            throw std::bad_alloc();
        int rc = avcodec_parameters_to_context(codec_.get(), request.codec);
        if (rc >= 0) {
            codec_->thread_count = decoder_threads;
            codec_->pkt_timebase = source_.stream()->time_base;
            rc = avcodec_open2(codec_.get(), decoder, nullptr);
        }
        if (rc < 0)
            throw MediaError(fmt::format("cannot use video '{}': cannot open its {} decoder: {}", request.source,
                                         avcodec_get_name(request.codec->codec_id), av::error_string(rc)));
        packet_.reset(av_packet_alloc());
        frame_.reset(av_frame_alloc());
        if (!packet_ || !frame_)
            throw std::bad_alloc();
    }

    // Takes intervals until none is left (or the work is stopped).
    void run()
    {
        while (!work_.stop) {
            const size_t i = work_.next++;
            if (i >= work_.order.size())
                break;
            Interval& interval = work_.intervals[work_.order[i]];
            if (request_.mode == SeekMode::keyframe)
                decode_keyframe(interval);
            else
                decode_interval(interval);
        }
    }

    size_t skipped_references() const { return skipped_references_; }

    std::vector<std::string> warnings() const
    {
        std::vector<std::string> out = warnings_;
        if (damaged_packets_ > 0)
            out.push_back(fmt::format("{} damaged packet(s) of '{}' were skipped", damaged_packets_, request_.source));
        if (concealed_frames_ > 0)
            out.push_back(fmt::format("{} decoded frame(s) of '{}' had damage that FFmpeg concealed", concealed_frames_, request_.source));
        return out;
    }

private:
    // From the interval's keyframe forward to its last target's packet, then the decoder drained. Frames no other
    // frame needs are not decoded unless they are targets.
    void decode_interval(Interval& interval)
    {
        targets_ = &interval.targets;
        out_ = &interval.frames;
        target_pts_.clear();
        for (const auto& t : interval.targets)
            target_pts_.insert(t.pts);
        const size_t key = index_.frames[interval.targets.front().position].keyframe;
        plan_interval(key);
        const Damage before = {damaged_packets_, concealed_frames_};
        Stop stop = decode_from(key, true);
        if (!plan_.empty() && errors_seen_ && !work_.stop) {
            // FFmpeg conceals damage from the reference pictures it has, and which those are depends on what was
            // skipped: a damaged interval is decoded again without skipping, to give what a full decode gives.
            start_over(before);
            stop = decode_from(key, true);
        }
        if (((stop == Stop::drained_early && next_ < targets_->size()) || held_back_) && !work_.stop) {
            // The decoder held a target back: after a recovery point (intra refresh) pictures are not output until
            // they are whole. Start one keyframe earlier, so that they are by the targets' time.
            start_over(before);
            decode_from(key > 0 ? index_.frames[key - 1].keyframe : key, false);
        }
        // Targets past the last decodable frame (a truncated file) get the last frame that decoded.
        if (next_ < targets_->size() && !work_.stop) {
            if (!last_)
                throw MediaError(fmt::format("cannot use video '{}': no frame of it could be decoded", request_.source));
            warnings_.push_back(fmt::format("frames after {:.2f} s could not be decoded (damaged or truncated file); the last "
                                            "decodable frame stands in, reported at its own time",
                                            index_.seconds(last_->best_effort_timestamp)));
            while (next_ < targets_->size())
                emit(*last_);
        }
    }

    enum class Stop { targets_out, drained_early, end_of_file, stopped };

    struct Damage
    {
        int packets = 0;
        int frames = 0;
    };

    // Forgets what an attempt at the current interval produced, and its plan, before another attempt.
    void start_over(const Damage& before)
    {
        work_.done -= next_;
        out_->clear();
        plan_.clear();
        damaged_packets_ = before.packets;
        concealed_frames_ = before.frames;
    }

    // Decodes from the keyframe until every target is out; with `stop_at_last_target`, sends nothing after the last
    // target's packet and drains the decoder instead.
    Stop decode_from(size_t key_position, bool stop_at_last_target)
    {
        next_ = 0;
        held_back_ = false;
        errors_seen_ = false;
        seek_to(key_position);
        size_t targets_sent = 0;
        while (next_ < targets_->size()) {
            if (work_.stop)
                return Stop::stopped;
            if (av_read_frame(source_.format(), packet_.get()) < 0) {
                drain();
                return Stop::end_of_file;
            }
            bool drained = false;
            if (packet_->stream_index == source_.stream_index()) {
                const int64_t pts = packet_time(*packet_);
                const bool target = target_pts_.count(pts) != 0;
                codec_->skip_frame = skip_for(pts, target);
                // A damaged packet is rejected and skipped; the decoder recovers at the next one it can use.
                if (avcodec_send_packet(codec_.get(), packet_.get()) < 0) {
                    ++damaged_packets_;
                    errors_seen_ = true;
                }
                receive_frames();
                // Every target is in the decoder: draining outputs them without decoding the packets after.
                if (target && ++targets_sent == target_pts_.size() && stop_at_last_target && next_ < targets_->size()) {
                    drain();
                    drained = true;
                }
            }
            av_packet_unref(packet_.get());
            if (drained)
                return Stop::drained_early;
        }
        return Stop::targets_out;
    }

    // For H.264, reads the interval's packets once without decoding (from the keyframe to the last target) and
    // works out which pictures the targets depend on. Leaves `plan_` empty when there is nothing to gain or the
    // stream is not modelled; then only non-reference pictures are skipped.
    void plan_interval(size_t key_position)
    {
        plan_.clear();
        // Not over the network either: the headers are read ahead of decoding, which would fetch the interval twice.
        if (!request_.skip_unused_references || request_.codec->codec_id != AV_CODEC_ID_H264 || is_http_url(request_.source) ||
            !h264::replay_matches_this_ffmpeg())
            return;
        h264::ReferenceAnalysis analysis(request_.codec->extradata, static_cast<size_t>(request_.codec->extradata_size));
        if (!analysis.usable())
            return;
        const int64_t key_pts = index_.frames[key_position].pts;
        seek_to(key_position);
        std::vector<int64_t> order;
        size_t targets_seen = 0;
        while (targets_seen < target_pts_.size() && !work_.stop && av_read_frame(source_.format(), packet_.get()) >= 0) {
            if (packet_->stream_index == source_.stream_index()) {
                const int64_t pts = packet_time(*packet_);
                // Packets before the keyframe (demuxers that land early) are skipped when decoding; the IDR resets all.
                if (!order.empty() || pts == key_pts) {
                    const bool target = target_pts_.count(pts) != 0;
                    analysis.add_picture(packet_->data, static_cast<size_t>(packet_->size), target);
                    order.push_back(pts);
                    targets_seen += target ? 1 : 0;
                }
            }
            av_packet_unref(packet_.get());
        }
        if (targets_seen < target_pts_.size()) // the index and this read disagree: decode as without a plan
            return;
        const std::optional<h264::DecodePlan> plan = analysis.pictures_to_decode();
        if (!plan || plan->skipped_references == 0)
            return;
        for (size_t i = 0; i < order.size(); ++i)
            if (!plan_.emplace(order[i], plan->decode[i]).second) { // two packets with one pts: not something to rely on
                plan_.clear();
                return;
            }
        skipped_references_ += plan->skipped_references;
    }

    AVDiscard skip_for(int64_t pts, bool target) const
    {
        if (plan_.empty())
            return target ? AVDISCARD_DEFAULT : AVDISCARD_NONREF;
        const auto decision = plan_.find(pts);
        return decision != plan_.end() && decision->second ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
    }

    // Ends the decoder's input; every frame it still holds comes out (and is looked at for damage).
    void drain()
    {
        avcodec_send_packet(codec_.get(), nullptr);
        receive_frames(true);
    }

    // A keyframe target: its one packet, then the decoder drained and reset.
    void decode_keyframe(Interval& interval)
    {
        const FrameTarget& target = interval.targets.front();
        targets_ = &interval.targets;
        out_ = &interval.frames;
        next_ = 0;
        codec_->skip_frame = AVDISCARD_DEFAULT;
        seek_to(target.position);
        bool sent = false;
        while (!sent && av_read_frame(source_.format(), packet_.get()) >= 0) {
            const int64_t pts = packet_time(*packet_);
            if (packet_->stream_index == source_.stream_index() && pts == target.pts) {
                if (avcodec_send_packet(codec_.get(), packet_.get()) < 0)
                    ++damaged_packets_;
                sent = true;
            }
            av_packet_unref(packet_.get());
        }
        avcodec_send_packet(codec_.get(), nullptr);
        while (avcodec_receive_frame(codec_.get(), frame_.get()) >= 0) {
            if (next_ == 0)
                emit(*frame_);
            av_frame_unref(frame_.get());
        }
        avcodec_flush_buffers(codec_.get()); // leaves the drained (end-of-stream) state
        if (next_ == 0 && target.position > 0) {
            // A keyframe that is a recovery point (intra refresh) is not a whole picture on its own: decode up to it
            // from the keyframe before.
            target_pts_ = {target.pts};
            plan_.clear();
            decode_from(index_.frames[target.position - 1].keyframe, false);
        }
        if (next_ == 0)
            throw MediaError(fmt::format("cannot use video '{}': its keyframe at {:.2f} s could not be decoded", request_.source,
                                         target.time_s));
    }

    // Seeks so that the next packet read is at or before the keyframe. Some demuxers (MPEG-TS) land after the
    // requested time; then it steps back further (1, 2, 4, ... s), and finally to the start of the file.
    void seek_to(size_t key_position)
    {
        const int64_t key_pts = index_.frames[key_position].pts;
        const auto second = static_cast<int64_t>(1.0 / av_q2d(index_.time_base));
        AVFormatContext* fmt = source_.format();
        int64_t seek_pts = key_pts;
        bool landed = false;
        for (int attempt = 0; attempt < 6 && !landed; ++attempt) {
            if (av_seek_frame(fmt, source_.stream_index(), seek_pts, AVSEEK_FLAG_BACKWARD) >= 0 && first_packet_pts() <= key_pts)
                // Peeking consumed packets; the same seek lands in the same place again.
                landed = av_seek_frame(fmt, source_.stream_index(), seek_pts, AVSEEK_FLAG_BACKWARD) >= 0;
            seek_pts -= second << attempt;
        }
        if (!landed && avformat_seek_file(fmt, -1, INT64_MIN, 0, 0, AVSEEK_FLAG_BYTE) < 0)
            throw MediaError(fmt::format("cannot use video '{}': seeking failed", request_.source));
        avcodec_flush_buffers(codec_.get());
        last_.reset();
    }

    // The pts of the next packet of the stream (consumed), or INT64_MAX at the end.
    int64_t first_packet_pts()
    {
        while (av_read_frame(source_.format(), packet_.get()) >= 0) {
            const bool ours = packet_->stream_index == source_.stream_index();
            const int64_t pts = packet_time(*packet_);
            av_packet_unref(packet_.get());
            if (ours)
                return pts == AV_NOPTS_VALUE ? INT64_MAX : pts;
        }
        return INT64_MAX;
    }

    // Takes the frames the decoder has ready, until the targets are out (or with `all`, every one).
    void receive_frames(bool all = false)
    {
        while (all || next_ < targets_->size()) {
            const int rc = avcodec_receive_frame(codec_.get(), frame_.get());
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
                return;
            if (rc < 0)
                continue; // a frame that failed to decode: the next one may not
            const int64_t pts = frame_->best_effort_timestamp;
            if (frame_->decode_error_flags != 0 || (frame_->flags & AV_FRAME_FLAG_CORRUPT) != 0) {
                errors_seen_ = true;
                ++concealed_frames_;
            }
            // The frame on screen at a target's time: this one if it is the target, else the one before it. With
            // none before it (the decoder held frames back), this later one stands in, and the caller is told.
            while (next_ < targets_->size() && pts >= (*targets_)[next_].pts) {
                held_back_ = held_back_ || (pts != (*targets_)[next_].pts && !last_);
                emit(pts == (*targets_)[next_].pts || !last_ ? *frame_ : *last_);
            }
            last_.reset(av_frame_clone(frame_.get()));
            av_frame_unref(frame_.get());
        }
    }

    void emit(const AVFrame& picture)
    {
        const av::Frame converted = converter_.convert(picture);
        EncodedFrame out;
        out.pts = picture.best_effort_timestamp;
        out.time_s = index_.seconds(out.pts);
        out.width = converted->width;
        out.height = converted->height;
        out.jpeg = encoder_.encode(*converted);
        out_->push_back(std::move(out));
        ++next_;
        ++work_.done;
    }

    const ExtractionRequest& request_;
    const FrameIndex& index_;
    WorkQueue& work_;
    MediaSource source_;
    av::CodecContext codec_;
    av::Packet packet_;
    av::Frame frame_;
    PictureConverter converter_;
    JpegEncoder encoder_;
    const std::vector<FrameTarget>* targets_ = nullptr;
    std::vector<EncodedFrame>* out_ = nullptr;
    std::set<int64_t> target_pts_;
    std::map<int64_t, bool> plan_; // pts -> decode it (H.264 with pictures worth skipping; empty otherwise)
    size_t skipped_references_ = 0;
    bool held_back_ = false;   // a target got a later frame because none came out before it
    bool errors_seen_ = false; // a packet was refused or a frame concealed
    size_t next_ = 0;
    av::Frame last_;
    std::vector<std::string> warnings_;
    int damaged_packets_ = 0;
    int concealed_frames_ = 0;
};

// Sorted targets grouped by the keyframe interval they decode from (each its own interval in keyframe mode).
std::vector<Interval> group_by_interval(const FrameIndex& index, const std::vector<FrameTarget>& targets, SeekMode mode)
{
    std::vector<Interval> intervals;
    size_t current_key = SIZE_MAX;
    for (const auto& t : targets) {
        const size_t key = mode == SeekMode::keyframe ? t.position : index.frames[t.position].keyframe;
        if (intervals.empty() || key != current_key || mode == SeekMode::keyframe)
            intervals.emplace_back();
        intervals.back().targets.push_back(t);
        current_key = key;
    }
    return intervals;
}

// The order workers take intervals in. One worker goes in time order (a download is read forward); several take the
// longest decodes first, so that no worker is left with a long one while the others are done.
std::vector<size_t> work_order(const FrameIndex& index, const std::vector<Interval>& intervals, size_t workers)
{
    std::vector<size_t> order(intervals.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    if (workers > 1) {
        const auto frames_to_decode = [&](size_t i) {
            const size_t last = intervals[i].targets.back().position;
            return last - std::min<size_t>(last, static_cast<size_t>(index.frames[last].keyframe));
        };
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return frames_to_decode(a) > frames_to_decode(b); });
    }
    return order;
}

} // namespace

Extraction extract_frames(const ExtractionRequest& request, const FrameIndex& index, const std::vector<FrameTarget>& targets,
                          const ExtractionObserver& observer)
{
    Extraction result;
    if (targets.empty())
        return result;
    std::vector<Interval> intervals = group_by_interval(index, targets, request.mode);
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    // A URL would be downloaded once per thread: one thread reads it.
    const unsigned wanted = is_http_url(request.source) ? 1u : (request.threads ? request.threads : cores);
    const auto workers_count = std::max<size_t>(1, std::min<size_t>(wanted, intervals.size()));
    const int decoder_threads = static_cast<int>(std::max<size_t>(1, cores / workers_count));

    WorkQueue work{intervals, work_order(index, intervals, workers_count)};
    // The first failure stops the others; what they then fail with is a consequence, not the reason.
    std::mutex failure_mutex;
    std::exception_ptr failure;
    std::vector<std::vector<std::string>> warnings(workers_count);
    std::vector<size_t> skipped(workers_count, 0);
    std::atomic<size_t> finished{0};
    std::vector<std::thread> workers;
    // Whatever leaves this scope (a callback's exception, a thread being ended), the workers stop and are joined:
    // a joinable std::thread destroyed would abort the process.
    struct JoinWorkers
    {
        WorkQueue& work;
        std::vector<std::thread>& workers;
        ~JoinWorkers()
        {
            work.stop = true;
            for (auto& t : workers)
                if (t.joinable())
                    t.join();
        }
    } join_workers{work, workers};
    for (size_t w = 0; w < workers_count; ++w)
        workers.emplace_back([&, w] {
            try {
                IntervalDecoder decoder(request, index, work, decoder_threads);
                decoder.run();
                warnings[w] = decoder.warnings();
                skipped[w] = decoder.skipped_references();
            } catch (...) {
                if (caught_foreign_exception())
                    throw;
                std::lock_guard lock(failure_mutex);
                if (!failure)
                    failure = std::current_exception();
                work.stop = true;
            }
            ++finished;
        });
    // Callbacks belong to the calling thread: it watches the workers, reports progress and relays cancellation.
    while (finished < workers.size()) {
        if (observer.cancelled && observer.cancelled())
            work.stop = true;
        if (observer.progress)
            observer.progress(double(work.done) / double(targets.size()));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (auto& t : workers)
        t.join();
    if (observer.cancelled && observer.cancelled())
        throw plugin::Error(JV_E_CANCELLED, "cancelled");
    if (failure)
        std::rethrow_exception(failure);

    for (auto& interval : intervals)
        for (auto& f : interval.frames)
            if (result.frames.empty() || result.frames.back().pts != f.pts)
                result.frames.push_back(std::move(f));
    for (auto& list : warnings)
        result.warnings.insert(result.warnings.end(), list.begin(), list.end());
    for (size_t n : skipped)
        result.skipped_references += n;
    if (observer.progress)
        observer.progress(1.0);
    return result;
}

} // namespace jarvis
