#pragma once

#include "media/av_handles.hpp"
#include "media/decode_policy.hpp"
#include "media/frame_extractor.hpp"
#include "media/picture.hpp"

#include <atomic>

namespace jarvis {

// One attempt at the targets of a keyframe interval: where its frames go and what it saw on the way.
struct IntervalAttempt
{
    const std::vector<FrameTarget>& targets;
    std::vector<EncodedFrame>& frames;
    size_t next = 0;          // targets emitted
    bool held_back = false;   // a target got a later frame because none came out before it
    bool errors_seen = false; // a packet was refused or a frame concealed

    bool complete() const { return next >= targets.size(); }
};

// Damage counted over a worker's intervals (undone when an interval is decoded again).
struct DamageCount
{
    int packets = 0; // refused by the decoder and skipped
    int frames = 0;  // decoded with damage FFmpeg concealed
};

// One worker's demuxer, decoder, converter and JPEG encoder, reused for every interval it takes: the decode loop
// alone. What to decode is the DecodePolicy's call, what to do when it goes wrong is interval_recovery's.
class IntervalDecodeLoop
{
public:
    enum class Stop { targets_out, drained_early, end_of_file, stopped };

    // `stopped` is polled between packets; `encoded` counts the frames emitted (the progress the caller reports).
    IntervalDecodeLoop(const ExtractionRequest& request, const FrameIndex& index, const std::atomic<bool>& stopped,
                       std::atomic<size_t>& encoded, int decoder_threads);

    // Decodes from the keyframe at `key_position` until every target of the attempt is out; with
    // `stop_at_last_target`, sends nothing after the last target's packet and drains the decoder instead.
    Stop decode_from(size_t key_position, const DecodePolicy& policy, IntervalAttempt& attempt, bool stop_at_last_target);

    // Keyframe mode: the target's one packet, then the decoder drained and reset.
    void decode_keyframe_packet(const FrameTarget& target, IntervalAttempt& attempt);

    // The video's packets from the keyframe at `key_position`, read without decoding; nullptr at the end or when
    // stopped. Each call invalidates the packet the previous one gave.
    std::function<const AVPacket*()> packets_from(size_t key_position);

    // The last frame decoded, emitted for every target still open (a truncated file). False if there is none.
    bool fill_with_last_frame(IntervalAttempt& attempt);
    double last_frame_time_s() const;

    // Forgets what an attempt produced (its frames and their progress).
    void discard(IntervalAttempt& attempt);

    bool stopped() const { return stopped_; }
    bool reads_url() const { return source_.info().is_url; }
    DamageCount damage() const { return damage_; }
    size_t pictures_decoded() const { return pictures_decoded_; }
    size_t pictures_on_gpu() const { return pictures_on_gpu_; }
    void restore_damage(DamageCount before) { damage_ = before; }

private:
    void seek_to(size_t key_position);
    int64_t first_packet_pts();
    bool read_packet();
    void throw_if_unreadable(int read_error);
    void receive_frames(IntervalAttempt& attempt, bool all = false);
    void drain(IntervalAttempt& attempt);
    void count_decoded(const AVFrame& picture);
    void emit(const AVFrame& picture, IntervalAttempt& attempt);

    const ExtractionRequest& request_;
    const FrameIndex& index_;
    const std::atomic<bool>& stopped_;
    std::atomic<size_t>& encoded_;
    MediaSource source_;
    av::CodecContext codec_;
    av::Packet packet_;
    av::Frame frame_;
    av::Frame last_;
    av::Frame download_; // a GPU surface's picture, copied to memory for the converter
    PictureConverter converter_;
    JpegEncoder encoder_;
    DamageCount damage_;
    size_t pictures_decoded_ = 0; // every picture the decoder output, those of attempts started over included
    size_t pictures_on_gpu_ = 0;  // of those, the ones that came out as GPU surfaces
};

} // namespace jarvis
