#include "media/interval_decode_loop.hpp"

#include "media/media_error.hpp"
#include "media/stream_seek.hpp"

#include <fmt/format.h>

namespace jarvis {
namespace {

// A packet's presentation time, or its decoding time where the container gives none (as the index does).
int64_t packet_time(const AVPacket& packet)
{
    return packet.pts != AV_NOPTS_VALUE ? packet.pts : packet.dts;
}

} // namespace

IntervalDecodeLoop::IntervalDecodeLoop(const ExtractionRequest& request, const FrameIndex& index, const std::atomic<bool>& stopped,
                                       std::atomic<size_t>& encoded, int decoder_threads)
    : request_(request), index_(index), stopped_(stopped), encoded_(encoded),
      source_(MediaSource::open_for_decoding(request.read_from(), request.stream_index, [&stopped] { return stopped.load(); },
                                              request.io_timeout_s, request.url_cache)),
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
        // A GPU decodes a picture at a time whatever the threads: frame threads would only hold more surfaces.
        if (request.hardware && decoder != nullptr && decode_on_device(*codec_, *decoder, *request.hardware))
            codec_->thread_count = 1;
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

IntervalDecodeLoop::Stop IntervalDecodeLoop::decode_from(size_t key_position, const DecodePolicy& policy, IntervalAttempt& attempt,
                                                         bool stop_at_last_target)
{
    attempt.next = 0;
    attempt.held_back = false;
    attempt.errors_seen = false;
    seek_to(key_position);
    size_t targets_sent = 0;
    while (!attempt.complete()) {
        if (stopped_)
            return Stop::stopped;
        if (av_read_frame(source_.format(), packet_.get()) < 0) {
            drain(attempt);
            return Stop::end_of_file;
        }
        bool drained = false;
        if (packet_->stream_index == source_.stream_index()) {
            const int64_t pts = packet_time(*packet_);
            codec_->skip_frame = policy.discard_for(pts);
            // A damaged packet is rejected and skipped; the decoder recovers at the next one it can use.
            if (avcodec_send_packet(codec_.get(), packet_.get()) < 0) {
                ++damage_.packets;
                attempt.errors_seen = true;
            }
            receive_frames(attempt);
            // Every target is in the decoder: draining outputs them without decoding the packets after.
            if (policy.is_target(pts) && ++targets_sent == policy.target_count() && stop_at_last_target && !attempt.complete()) {
                drain(attempt);
                drained = true;
            }
        }
        av_packet_unref(packet_.get());
        if (drained)
            return Stop::drained_early;
    }
    return Stop::targets_out;
}

void IntervalDecodeLoop::decode_keyframe_packet(const FrameTarget& target, IntervalAttempt& attempt)
{
    attempt.next = 0;
    codec_->skip_frame = AVDISCARD_DEFAULT;
    seek_to(target.position);
    bool sent = false;
    while (!sent && av_read_frame(source_.format(), packet_.get()) >= 0) {
        if (packet_->stream_index == source_.stream_index() && packet_time(*packet_) == target.pts) {
            if (avcodec_send_packet(codec_.get(), packet_.get()) < 0)
                ++damage_.packets;
            sent = true;
        }
        av_packet_unref(packet_.get());
    }
    avcodec_send_packet(codec_.get(), nullptr);
    while (avcodec_receive_frame(codec_.get(), frame_.get()) >= 0) {
        count_decoded(*frame_);
        if (attempt.next == 0)
            emit(*frame_, attempt);
        av_frame_unref(frame_.get());
    }
    avcodec_flush_buffers(codec_.get()); // leaves the drained (end-of-stream) state
}

// The next packet of any stream; false at the end of the file (or what can be read of it: damage ends it there).
// A source that cannot be read (a server that stopped answering, a disk error) is an error, not an early end: taken for
// one, every later interval and every seek would wait out the same failure.
bool IntervalDecodeLoop::read_packet()
{
    const int rc = av_read_frame(source_.format(), packet_.get());
    if (rc >= 0)
        return true;
    // Demuxers report a failed read as the end of the file, or as damage: the I/O context keeps the failure.
    throw_if_unreadable(rc != AVERROR_EOF && rc != AVERROR_INVALIDDATA ? rc : 0);
    return false;
}

void IntervalDecodeLoop::throw_if_unreadable(int read_error)
{
    const AVIOContext* io = source_.format()->pb;
    const int failure = io != nullptr && io->error < 0 ? io->error : read_error;
    if (failure < 0 && failure != AVERROR_EXIT && failure != AVERROR_EOF && !stopped_)
        throw MediaError(fmt::format("cannot read video '{}': {}{}", request_.source, av::error_string(failure),
                                     reads_url() ? " (its server stopped sending, or the connection failed)" : ""));
}

std::function<const AVPacket*()> IntervalDecodeLoop::packets_from(size_t key_position)
{
    seek_to(key_position);
    return [this]() -> const AVPacket* {
        av_packet_unref(packet_.get());
        while (!stopped_ && read_packet()) {
            if (packet_->stream_index == source_.stream_index())
                return packet_.get();
            av_packet_unref(packet_.get());
        }
        return nullptr;
    };
}

bool IntervalDecodeLoop::fill_with_last_frame(IntervalAttempt& attempt)
{
    if (!last_)
        return false;
    while (!attempt.complete())
        emit(*last_, attempt);
    return true;
}

double IntervalDecodeLoop::last_frame_time_s() const
{
    return last_ ? index_.seconds(last_->best_effort_timestamp) : 0.0;
}

void IntervalDecodeLoop::discard(IntervalAttempt& attempt)
{
    encoded_ -= attempt.next;
    attempt.frames.clear();
}

// Seeks so that the next packet read is at or before the keyframe. Some demuxers (MPEG-TS) land after the requested
// time; then it steps back further (1, 2, 4, ... s), and finally to the start of the file.
void IntervalDecodeLoop::seek_to(size_t key_position)
{
    av_packet_unref(packet_.get()); // a packet packets_from() handed out last
    const int64_t key_pts = index_.frames[key_position].pts;
    const auto second = static_cast<int64_t>(1.0 / av_q2d(index_.time_base));
    AVFormatContext* fmt = source_.format();
    int64_t seek_pts = key_pts;
    bool landed = false;
    for (int attempt = 0; attempt < 6 && !landed; ++attempt) {
        if (seek_stream(fmt, source_.stream_index(), seek_pts, AVSEEK_FLAG_BACKWARD) >= 0 && first_packet_pts() <= key_pts)
            // Peeking consumed packets; the same seek lands in the same place again.
            landed = seek_stream(fmt, source_.stream_index(), seek_pts, AVSEEK_FLAG_BACKWARD) >= 0;
        seek_pts -= second << attempt;
    }
    if (!landed)
        throw_if_unreadable(0);
    if (!landed && avformat_seek_file(fmt, -1, INT64_MIN, 0, 0, AVSEEK_FLAG_BYTE) < 0)
        throw MediaError(fmt::format("cannot use video '{}': seeking failed", request_.source));
    avcodec_flush_buffers(codec_.get());
    last_.reset();
}

// The pts of the next packet of the stream (consumed), or INT64_MAX at the end.
int64_t IntervalDecodeLoop::first_packet_pts()
{
    while (read_packet()) {
        const bool ours = packet_->stream_index == source_.stream_index();
        const int64_t pts = packet_time(*packet_);
        av_packet_unref(packet_.get());
        if (ours)
            return pts == AV_NOPTS_VALUE ? INT64_MAX : pts;
    }
    return INT64_MAX;
}

// Ends the decoder's input; every frame it still holds comes out (and is looked at for damage).
void IntervalDecodeLoop::drain(IntervalAttempt& attempt)
{
    avcodec_send_packet(codec_.get(), nullptr);
    receive_frames(attempt, true);
}

// Takes the frames the decoder has ready, until the targets are out (or with `all`, every one).
void IntervalDecodeLoop::receive_frames(IntervalAttempt& attempt, bool all)
{
    const std::vector<FrameTarget>& targets = attempt.targets;
    while (all || !attempt.complete()) {
        const int rc = avcodec_receive_frame(codec_.get(), frame_.get());
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return;
        if (rc < 0)
            continue; // a frame that failed to decode: the next one may not
        count_decoded(*frame_);
        const int64_t pts = frame_->best_effort_timestamp;
        if (frame_->decode_error_flags != 0 || (frame_->flags & AV_FRAME_FLAG_CORRUPT) != 0) {
            attempt.errors_seen = true;
            ++damage_.frames;
        }
        // The frame on screen at a target's time: this one if it is the target, else the one before it. With none
        // before it (the decoder held frames back), this later one stands in, and the caller is told.
        while (!attempt.complete() && pts >= targets[attempt.next].pts) {
            attempt.held_back = attempt.held_back || (pts != targets[attempt.next].pts && !last_);
            emit(pts == targets[attempt.next].pts || !last_ ? *frame_ : *last_, attempt);
        }
        last_.reset(av_frame_clone(frame_.get()));
        av_frame_unref(frame_.get());
    }
}

void IntervalDecodeLoop::count_decoded(const AVFrame& picture)
{
    ++pictures_decoded_;
    if (picture.hw_frames_ctx != nullptr)
        ++pictures_on_gpu_;
}

void IntervalDecodeLoop::emit(const AVFrame& picture, IntervalAttempt& attempt)
{
    const av::Frame converted = converter_.convert(in_system_memory(picture, download_, request_.source));
    EncodedFrame out;
    out.pts = picture.best_effort_timestamp;
    out.time_s = index_.seconds(out.pts);
    out.width = converted->width;
    out.height = converted->height;
    out.jpeg = encoder_.encode(*converted);
    out.jpeg_bytes = out.jpeg.size();
    attempt.frames.push_back(std::move(out));
    ++attempt.next;
    ++encoded_;
}

} // namespace jarvis
