#include "media_decode.hpp"

#include "media/av_handles.hpp"
#include "media/ffmpeg_compat.hpp"

extern "C" {
#include <libavutil/display.h>
}

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace jarvis::emulator {
namespace {

// Reads a memory buffer through FFmpeg's custom I/O.
class MemoryInput
{
public:
    explicit MemoryInput(const std::string& bytes) : bytes_(bytes)
    {
        constexpr int buffer_size = 64 * 1024;
        auto* buffer = static_cast<unsigned char*>(av_malloc(buffer_size));
        if (buffer == nullptr)
            throw std::bad_alloc();
        io_ = avio_alloc_context(buffer, buffer_size, 0, this, &MemoryInput::read, nullptr, &MemoryInput::seek);
        if (io_ == nullptr) {
            av_free(buffer);
            throw std::bad_alloc();
        }
    }
    ~MemoryInput()
    {
        if (io_ != nullptr)
            av_freep(&io_->buffer);
        avio_context_free(&io_);
    }
    MemoryInput(const MemoryInput&) = delete;
    MemoryInput& operator=(const MemoryInput&) = delete;

    AVIOContext* io() const { return io_; }

private:
    static int read(void* opaque, uint8_t* out, int size)
    {
        auto* self = static_cast<MemoryInput*>(opaque);
        const size_t left = self->bytes_.size() - self->position_;
        if (left == 0)
            return AVERROR_EOF;
        const size_t n = std::min<size_t>(left, static_cast<size_t>(size));
        std::memcpy(out, self->bytes_.data() + self->position_, n);
        self->position_ += n;
        return static_cast<int>(n);
    }
    static int64_t seek(void* opaque, int64_t offset, int whence)
    {
        auto* self = static_cast<MemoryInput*>(opaque);
        const auto size = static_cast<int64_t>(self->bytes_.size());
        int64_t target = 0;
        switch (whence & ~AVSEEK_FORCE) {
        case AVSEEK_SIZE: return size;
        case SEEK_SET: target = offset; break;
        case SEEK_CUR: target = static_cast<int64_t>(self->position_) + offset; break;
        case SEEK_END: target = size + offset; break;
        default: return AVERROR(EINVAL);
        }
        if (target < 0 || target > size)
            return AVERROR(EINVAL);
        self->position_ = static_cast<size_t>(target);
        return target;
    }

    const std::string& bytes_;
    size_t position_ = 0;
    AVIOContext* io_ = nullptr;
};

[[noreturn]] void fail(const std::string& what, int rc)
{
    throw std::runtime_error(what + ": " + av::error_string(rc));
}

struct OpenedStream
{
    av::FormatContext format;
    av::CodecContext codec;
    int index = -1;
};

// Which video stream a loader reads: OpenCV the first (it does not look at the disposition, so cover art first is
// what it shows), TorchCodec FFmpeg's pick (av_find_best_stream).
enum class StreamPick { first_video, ffmpegs_best };

// `threads`: the decoder's thread count (FFmpeg's default is one; OpenCV sets one per core).
OpenedStream open_stream(MemoryInput& input, StreamPick pick, int threads = 1)
{
    OpenedStream s;
    AVFormatContext* raw = avformat_alloc_context();
    if (raw == nullptr)
        throw std::bad_alloc();
    raw->pb = input.io();
    raw->flags |= AVFMT_FLAG_CUSTOM_IO;
    int rc = avformat_open_input(&raw, nullptr, nullptr, nullptr);
    if (rc < 0)
        fail("Could not open video stream", rc);
    s.format.reset(raw);
    if ((rc = avformat_find_stream_info(raw, nullptr)) < 0)
        fail("Could not read stream information", rc);
    if (pick == StreamPick::ffmpegs_best) {
        s.index = av_find_best_stream(raw, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    } else {
        for (unsigned i = 0; i < raw->nb_streams && s.index < 0; ++i)
            if (raw->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO)
                s.index = static_cast<int>(i);
    }
    if (s.index < 0)
        throw std::runtime_error("no video stream");
    const AVCodecParameters* par = raw->streams[s.index]->codecpar;
    const AVCodec* decoder = avcodec_find_decoder(par->codec_id);
    if (decoder == nullptr)
        throw std::runtime_error(std::string("no decoder for ") + avcodec_get_name(par->codec_id));
    s.codec.reset(avcodec_alloc_context3(decoder));
    if (!s.codec)
        throw std::bad_alloc();
    if ((rc = avcodec_parameters_to_context(s.codec.get(), par)) < 0)
        fail("Could not set up the decoder", rc);
    s.codec->thread_count = threads;
    if ((rc = avcodec_open2(s.codec.get(), decoder, nullptr)) < 0)
        fail("Could not open the decoder", rc);
    return s;
}

// Sends every packet of the stream through the decoder, calling on_frame for each decoded frame.
template <class OnFrame>
void decode_all(OpenedStream& s, OnFrame&& on_frame)
{
    av::Packet packet(av_packet_alloc());
    av::Frame frame(av_frame_alloc());
    if (!packet || !frame)
        throw std::bad_alloc();
    auto drain = [&] {
        while (true) {
            const int rc = avcodec_receive_frame(s.codec.get(), frame.get());
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
                return;
            if (rc < 0)
                return; // a damaged frame: skip it, as vLLM's loaders drop frames that fail to decode
            on_frame(*frame);
            av_frame_unref(frame.get());
        }
    };
    while (av_read_frame(s.format.get(), packet.get()) >= 0) {
        if (packet->stream_index == s.index && avcodec_send_packet(s.codec.get(), packet.get()) >= 0)
            drain();
        av_packet_unref(packet.get());
    }
    avcodec_send_packet(s.codec.get(), nullptr);
    drain();
}

// The displayed size: rotation applied, as OpenCV's auto-orientation does.
void describe_size(const AVStream& st, DecodedVideo& v)
{
    v.width = st.codecpar->width;
    v.height = st.codecpar->height;
    if (const int32_t* m = av::display_matrix(&st); m != nullptr) {
        const double r = std::fabs(av_display_rotation_get(m));
        if (std::lround(r) % 180 == 90)
            std::swap(v.width, v.height);
    }
}

// The stream's frame rate (TorchCodec's metadata) and displayed size.
void describe_stream(const AVStream& st, DecodedVideo& v)
{
    const AVRational rate = st.avg_frame_rate.num > 0 ? st.avg_frame_rate : st.r_frame_rate;
    v.fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0;
    describe_size(st, v);
}

// OpenCV's CvCapture_FFMPEG::get_fps and get_total_frames (cap_ffmpeg_impl.hpp): the average frame rate, else one frame
// per time-base tick; the container's frame count, else the duration (the file's, else the stream's, each taken as
// it is, AV_NOPTS_VALUE included) times that rate, rounded.
void describe_as_opencv(const AVFormatContext& format, const AVStream& st, DecodedVideo& v)
{
    constexpr double eps_zero = 0.000025;
    const auto ratio = [](AVRational r) { return r.num == 0 || r.den == 0 ? 0.0 : double(r.num) / double(r.den); };
    v.fps = ratio(st.avg_frame_rate);
    if (v.fps < eps_zero)
        v.fps = 1.0 / ratio(st.time_base);
    v.total_frames = st.nb_frames;
    if (v.total_frames == 0) {
        double seconds = double(format.duration) / double(AV_TIME_BASE);
        if (seconds < eps_zero)
            seconds = double(st.duration) * ratio(st.time_base);
        constexpr double int64_range = 9.0e18; // a damaged header's product would not fit: kept inside, not undefined
        v.total_frames = static_cast<int64_t>(std::clamp(std::floor(seconds * v.fps + 0.5), -int64_range, int64_range));
    }
    describe_size(st, v);
}

// OpenCV's CvCapture_FFMPEG::grabFrame over the same FFmpeg calls, so that a cut or damaged file loses what it loses
// there: a frame left in the decoder first; else packets read, each sent and one frame asked for. A read error other
// than the end leaves a blank packet, which, sent for the video stream, drains the decoder (OpenCV's quirk); a send
// that fails ends the grab, as does the 513th failed attempt.
class OpenCvGrabber
{
public:
    explicit OpenCvGrabber(OpenedStream& s) : s_(s), packet_(av_packet_alloc()), frame_(av_frame_alloc())
    {
        if (!packet_ || !frame_)
            throw std::bad_alloc();
    }

    bool grab()
    {
        const AVStream* st = s_.format->streams[s_.index];
        if (st->nb_frames > 0 && frame_number_ > st->nb_frames)
            return false;
        const int held = avcodec_receive_frame(s_.codec.get(), frame_.get());
        bool valid = held >= 0;
        ended_ = held == AVERROR_EOF; // drained after the end: no read or send can give a frame any more
        constexpr int max_attempts = 1 << 9;
        int errors = 0;
        while (!valid) {
            av_packet_unref(packet_.get());
            const int rc = av_read_frame(s_.format.get(), packet_.get());
            if (rc == AVERROR(EAGAIN)) {
                if (++errors > max_attempts) // OpenCV retries for ever; memory never says EAGAIN, a stand-in must not hang
                    break;
                continue;
            }
            if (rc == AVERROR_EOF) { // flush what the decoder holds
                packet_->data = nullptr;
                packet_->size = 0;
                packet_->stream_index = s_.index;
            }
            if (packet_->stream_index != s_.index) {
                if (++errors > max_attempts)
                    break;
                continue;
            }
            if (avcodec_send_packet(s_.codec.get(), packet_.get()) < 0)
                break;
            const int got = avcodec_receive_frame(s_.codec.get(), frame_.get());
            if (got >= 0)
                valid = true;
            else if (got != AVERROR(EAGAIN) && ++errors > max_attempts)
                break;
        }
        av_frame_unref(frame_.get());
        if (valid)
            ++frame_number_;
        return valid;
    }

    // Whether the decoder has given its last frame after the end, so that no grab can succeed any more.
    bool ended() const { return ended_; }

private:
    OpenedStream& s_;
    av::Packet packet_;
    av::Frame frame_;
    int64_t frame_number_ = 0;
    bool ended_ = false;
};

int opencv_thread_count()
{
    return static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 16u));
}

} // namespace

DecodedVideo read_as_opencv(const std::string& bytes)
{
    MemoryInput input(bytes);
    OpenedStream s = open_stream(input, StreamPick::first_video);
    DecodedVideo v;
    describe_as_opencv(*s.format, *s.format->streams[s.index], v);
    return v;
}

OpenCvWalk walk_like_opencv(const std::string& bytes, const std::vector<int64_t>& wanted)
{
    OpenCvWalk walk;
    if (wanted.empty())
        return walk;
    MemoryInput input(bytes);
    OpenedStream s = open_stream(input, StreamPick::first_video, opencv_thread_count());
    OpenCvGrabber capture(s);
    size_t next = 0;
    // Past the end every grab fails, so the walk stops there: a header that promises millions of frames more than the
    // file holds would otherwise cost as many futile grabs.
    for (int64_t index = 0; index <= wanted.back() && !capture.ended(); ++index) {
        if (!capture.grab())
            continue; // vLLM's loop goes on to the next index: a failed grab costs that index, not the walk
        ++walk.grabbed;
        while (next < wanted.size() && wanted[next] < index)
            ++next;
        if (next < wanted.size() && wanted[next] == index)
            walk.read.push_back(index);
    }
    return walk;
}

ScannedVideo scan_video(const std::string& bytes)
{
    MemoryInput input(bytes);
    OpenedStream s = open_stream(input, StreamPick::ffmpegs_best);
    const AVStream* st = s.format->streams[s.index];
    ScannedVideo out;
    struct Packet
    {
        int64_t pts;
        bool key;
    };
    std::vector<Packet> packets; // decode order
    av::Packet packet(av_packet_alloc());
    if (!packet)
        throw std::bad_alloc();
    while (av_read_frame(s.format.get(), packet.get()) >= 0) {
        if (packet->stream_index == s.index)
            packets.push_back({packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts, (packet->flags & AV_PKT_FLAG_KEY) != 0});
        av_packet_unref(packet.get());
    }
    if (packets.empty())
        throw std::runtime_error("no frame in the stream");
    std::vector<int64_t> key_pts(packets.size());
    int64_t current = packets.front().pts;
    for (size_t i = 0; i < packets.size(); ++i)
        key_pts[i] = (current = packets[i].key ? packets[i].pts : current);
    std::vector<size_t> order(packets.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return packets[a].pts < packets[b].pts; });
    for (size_t i : order)
        out.pts.push_back(packets[i].pts);
    for (size_t i : order)
        out.keyframe_of.push_back(static_cast<size_t>(std::lower_bound(out.pts.begin(), out.pts.end(), key_pts[i]) - out.pts.begin()));
    DecodedVideo& v = out.video;
    v.total_frames = static_cast<int64_t>(packets.size());
    describe_stream(*st, v);
    return out;
}

int64_t decode_at_indices(const std::string& bytes, const ScannedVideo& scanned, const std::vector<int64_t>& indices)
{
    MemoryInput input(bytes);
    OpenedStream s = open_stream(input, StreamPick::ffmpegs_best);
    av::Packet packet(av_packet_alloc());
    av::Frame frame(av_frame_alloc());
    if (!packet || !frame)
        throw std::bad_alloc();
    int64_t decoded = 0;
    int64_t shown = INT64_MIN; // the pts of the last frame the decoder gave
    size_t interval = SIZE_MAX;
    for (const int64_t index : indices) {
        if (index < 0 || static_cast<size_t>(index) >= scanned.pts.size())
            continue;
        const int64_t target = scanned.pts[static_cast<size_t>(index)];
        const size_t key = scanned.keyframe_of[static_cast<size_t>(index)];
        if (key != interval || target <= shown) {
            // A new interval (or a target behind the decoder): seek to its keyframe and start afresh.
            if (av_seek_frame(s.format.get(), s.index, scanned.pts[key], AVSEEK_FLAG_BACKWARD) < 0)
                throw std::runtime_error("seeking failed");
            avcodec_flush_buffers(s.codec.get());
            interval = key;
            shown = INT64_MIN;
        }
        bool eof = false;
        while (shown < target && !eof) {
            const int rc = avcodec_receive_frame(s.codec.get(), frame.get());
            if (rc == 0) {
                ++decoded;
                shown = frame->best_effort_timestamp != AV_NOPTS_VALUE ? frame->best_effort_timestamp : frame->pts;
                av_frame_unref(frame.get());
                continue;
            }
            if (rc == AVERROR_EOF)
                break;
            if (av_read_frame(s.format.get(), packet.get()) < 0) {
                avcodec_send_packet(s.codec.get(), nullptr);
                eof = true;
                continue;
            }
            if (packet->stream_index == s.index)
                avcodec_send_packet(s.codec.get(), packet.get());
            av_packet_unref(packet.get());
        }
        if (eof)
            while (avcodec_receive_frame(s.codec.get(), frame.get()) == 0 && shown < target) {
                ++decoded;
                shown = frame->best_effort_timestamp;
                av_frame_unref(frame.get());
            }
    }
    return decoded;
}

DecodedImage decode_image(const std::string& bytes)
{
    MemoryInput input(bytes);
    OpenedStream s = open_stream(input, StreamPick::first_video);
    DecodedImage image;
    decode_all(s, [&](const AVFrame& f) {
        if (image.width == 0) {
            image.width = f.width;
            image.height = f.height;
        }
    });
    if (image.width == 0)
        throw std::runtime_error("cannot identify image file");
    return image;
}

} // namespace jarvis::emulator
