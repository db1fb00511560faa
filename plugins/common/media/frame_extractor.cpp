#include "media/frame_extractor.hpp"

#include "media/media_error.hpp"
#include "media/picture.hpp"

#include <jarvis/plugin_adapter.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <set>
#include <thread>

namespace jarvis {
namespace {

struct Chunk
{
    std::vector<FrameTarget> targets;
    std::vector<EncodedFrame> frames;
    std::vector<std::string> warnings;
    std::exception_ptr failure;
};

// Decodes one chunk of sorted targets with its own demuxer and decoder.
class ChunkDecoder
{
public:
    ChunkDecoder(const ExtractionRequest& request, const FrameIndex& index, Chunk& chunk, std::atomic<bool>& stop,
                 std::atomic<size_t>& done, int decoder_threads)
        : request_(request), index_(index), chunk_(chunk), stop_(stop), done_(done),
          source_(MediaSource::open(request.source, [&stop] { return stop.load(); })),
          converter_(request.width, request.height, request.rotation_deg, source_.stream()->codecpar->field_order),
          encoder_(request.jpeg_quality)
    {
        const AVCodecParameters* par = source_.stream()->codecpar;
        const AVCodec* decoder = avcodec_find_decoder(par->codec_id);
        codec_.reset(avcodec_alloc_context3(decoder));
        if (!codec_)
            throw std::bad_alloc();
        int rc = avcodec_parameters_to_context(codec_.get(), par);
        if (rc >= 0) {
            codec_->thread_count = decoder_threads;
            codec_->pkt_timebase = source_.stream()->time_base;
            rc = avcodec_open2(codec_.get(), decoder, nullptr);
        }
        if (rc < 0)
            throw MediaError(fmt::format("cannot use video '{}': cannot open its {} decoder: {}", request.source,
                                         avcodec_get_name(par->codec_id), av::error_string(rc)));
        for (const auto& t : chunk_.targets)
            target_pts_.insert(t.pts);
    }

    void run()
    {
        if (request_.mode == SeekMode::keyframe)
            run_keyframes();
        else
            run_exact();
        if (damaged_packets_ > 0)
            chunk_.warnings.push_back(fmt::format("{} damaged packet(s) of '{}' were skipped", damaged_packets_, request_.source));
    }

private:
    // Decodes forward from each target's keyframe, keeping on while the next target is in the same interval.
    void run_exact()
    {
        av::Packet packet(av_packet_alloc());
        av::Frame frame(av_frame_alloc());
        if (!packet || !frame)
            throw std::bad_alloc();
        const auto& targets = chunk_.targets;
        while (next_ < targets.size() && !stop_) {
            const size_t key = index_.frames[targets[next_].position].keyframe;
            if (static_cast<int64_t>(key) != current_key_)
                seek_to(key);
            const int rc = av_read_frame(source_.format(), packet.get());
            if (rc < 0) {
                avcodec_send_packet(codec_.get(), nullptr); // end of file: drain what the decoder holds
                receive_frames(frame.get());
                break;
            }
            if (packet->stream_index == source_.stream_index()) {
                const int64_t pts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
                // Frames no other frame needs are not decoded unless they are wanted.
                codec_->skip_frame = target_pts_.count(pts) ? AVDISCARD_DEFAULT : AVDISCARD_NONREF;
                // A damaged packet is rejected and skipped; the decoder recovers at the next one it can use.
                if (avcodec_send_packet(codec_.get(), packet.get()) < 0)
                    ++damaged_packets_;
                receive_frames(frame.get());
            }
            av_packet_unref(packet.get());
        }
        // Targets past the last decodable frame (a truncated file) get the last frame that decoded.
        if (next_ < targets.size() && !stop_) {
            if (!last_)
                throw MediaError(fmt::format("cannot use video '{}': no frame of it could be decoded", request_.source));
            chunk_.warnings.push_back(fmt::format("frames after {:.2f} s could not be decoded (damaged or truncated file); the "
                                                  "last decodable frame stands in, reported at its own time",
                                                  index_.seconds(last_->best_effort_timestamp)));
            while (next_ < targets.size())
                emit(*last_);
        }
    }

    // Each target is a keyframe: seek to it, decode its one packet, drain the decoder, reset it for the next.
    void run_keyframes()
    {
        av::Packet packet(av_packet_alloc());
        av::Frame frame(av_frame_alloc());
        if (!packet || !frame)
            throw std::bad_alloc();
        for (const auto& target : chunk_.targets) {
            if (stop_)
                return;
            seek_to(target.position);
            bool sent = false;
            while (!sent && av_read_frame(source_.format(), packet.get()) >= 0) {
                const int64_t pts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
                if (packet->stream_index == source_.stream_index() && pts == target.pts) {
                    if (avcodec_send_packet(codec_.get(), packet.get()) < 0)
                        ++damaged_packets_;
                    sent = true;
                }
                av_packet_unref(packet.get());
            }
            avcodec_send_packet(codec_.get(), nullptr);
            bool emitted = false;
            while (avcodec_receive_frame(codec_.get(), frame.get()) >= 0) {
                if (!emitted) {
                    emit(*frame);
                    emitted = true;
                }
                av_frame_unref(frame.get());
            }
            avcodec_flush_buffers(codec_.get()); // leaves the drained (end-of-stream) state
            if (!emitted)
                throw MediaError(fmt::format("cannot use video '{}': its keyframe at {:.2f} s could not be decoded", request_.source,
                                             target.time_s));
        }
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
        current_key_ = static_cast<int64_t>(key_position);
    }

    // The pts of the next packet of the stream (consumed), or INT64_MAX at the end.
    int64_t first_packet_pts()
    {
        av::Packet packet(av_packet_alloc());
        while (packet && av_read_frame(source_.format(), packet.get()) >= 0) {
            const bool ours = packet->stream_index == source_.stream_index();
            const int64_t pts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
            av_packet_unref(packet.get());
            if (ours)
                return pts == AV_NOPTS_VALUE ? INT64_MAX : pts;
        }
        return INT64_MAX;
    }

    void receive_frames(AVFrame* frame)
    {
        const auto& targets = chunk_.targets;
        while (next_ < targets.size()) {
            const int rc = avcodec_receive_frame(codec_.get(), frame);
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
                return;
            if (rc < 0)
                continue; // a frame that failed to decode: the next one may not
            const int64_t pts = frame->best_effort_timestamp;
            while (next_ < targets.size() && pts >= targets[next_].pts) {
                // The frame on screen at the target's time: this one if it is the target, else the one before it.
                const bool exact = pts == targets[next_].pts || !last_ || request_.mode == SeekMode::keyframe;
                emit(exact ? *frame : *last_);
                if (next_ < targets.size()) {
                    const size_t key = request_.mode == SeekMode::keyframe ? targets[next_].position
                                                                          : index_.frames[targets[next_].position].keyframe;
                    if (static_cast<int64_t>(key) != current_key_) {
                        av_frame_unref(frame);
                        return; // the next target is in another interval: the caller seeks
                    }
                }
            }
            last_.reset(av_frame_clone(frame));
            av_frame_unref(frame);
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
        chunk_.frames.push_back(std::move(out));
        ++next_;
        ++done_;
    }

    const ExtractionRequest& request_;
    const FrameIndex& index_;
    Chunk& chunk_;
    std::atomic<bool>& stop_;
    std::atomic<size_t>& done_;
    MediaSource source_;
    av::CodecContext codec_;
    PictureConverter converter_;
    JpegEncoder encoder_;
    std::set<int64_t> target_pts_;
    size_t next_ = 0;
    int64_t current_key_ = -1;
    int damaged_packets_ = 0;
    av::Frame last_;
};

// Splits sorted targets into at most `parts` runs of whole keyframe intervals, about equal in size.
std::vector<Chunk> split_by_interval(const FrameIndex& index, const std::vector<FrameTarget>& targets, unsigned parts, SeekMode mode)
{
    std::vector<std::vector<FrameTarget>> intervals;
    for (const auto& t : targets) {
        const size_t key = mode == SeekMode::keyframe ? t.position : index.frames[t.position].keyframe;
        if (intervals.empty() || (mode == SeekMode::keyframe ? intervals.back().back().position : index.frames[intervals.back().back().position].keyframe) != key)
            intervals.emplace_back();
        intervals.back().push_back(t);
    }
    parts = std::max(1u, std::min<unsigned>(parts, static_cast<unsigned>(intervals.size())));
    std::vector<Chunk> chunks(parts);
    const size_t per_chunk = (targets.size() + parts - 1) / parts;
    size_t c = 0;
    for (auto& interval : intervals) {
        if (chunks[c].targets.size() >= per_chunk && c + 1 < parts)
            ++c;
        chunks[c].targets.insert(chunks[c].targets.end(), interval.begin(), interval.end());
    }
    chunks.erase(std::remove_if(chunks.begin(), chunks.end(), [](const Chunk& ch) { return ch.targets.empty(); }), chunks.end());
    return chunks;
}

} // namespace

Extraction extract_frames(const ExtractionRequest& request, const FrameIndex& index, const std::vector<FrameTarget>& targets,
                          const ExtractionObserver& observer)
{
    Extraction result;
    if (targets.empty())
        return result;
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    // A URL would be downloaded once per thread: one thread reads it.
    const unsigned wanted = is_http_url(request.source) ? 1u : (request.threads ? request.threads : cores);
    std::vector<Chunk> chunks = split_by_interval(index, targets, wanted, request.mode);
    const int decoder_threads = static_cast<int>(std::max<unsigned>(1, cores / static_cast<unsigned>(chunks.size())));

    std::atomic<bool> stop{false};
    std::atomic<size_t> done{0};
    std::atomic<size_t> finished{0};
    std::vector<std::thread> workers;
    for (auto& chunk : chunks)
        workers.emplace_back([&, &chunk = chunk] {
            try {
                ChunkDecoder(request, index, chunk, stop, done, decoder_threads).run();
            } catch (...) {
                chunk.failure = std::current_exception();
                stop = true;
            }
            ++finished;
        });
    // Callbacks belong to the calling thread: it watches the workers, reports progress and relays cancellation.
    while (finished < workers.size()) {
        if (observer.cancelled && observer.cancelled())
            stop = true;
        if (observer.progress)
            observer.progress(double(done) / double(targets.size()));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (auto& w : workers)
        w.join();
    if (observer.cancelled && observer.cancelled())
        throw plugin::Error(JV_E_CANCELLED, "cancelled");
    for (auto& chunk : chunks)
        if (chunk.failure)
            std::rethrow_exception(chunk.failure);

    for (auto& chunk : chunks) {
        for (auto& f : chunk.frames)
            if (result.frames.empty() || result.frames.back().pts != f.pts)
                result.frames.push_back(std::move(f));
        result.warnings.insert(result.warnings.end(), chunk.warnings.begin(), chunk.warnings.end());
    }
    if (observer.progress)
        observer.progress(1.0);
    return result;
}

} // namespace jarvis
