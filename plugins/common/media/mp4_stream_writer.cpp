#include "media/mp4_stream_writer.hpp"

#include <algorithm>
#include <limits>

namespace jarvis {
namespace {

// `what` is said with the file: "writing a packet to /tmp/x.mp4 failed: Invalid argument".
void check(int rc, const char* what, const std::string& path)
{
    if (rc < 0)
        throw Mp4StreamWriter::Failure(std::string(what) + " " + path + " failed: " + av::error_string(rc));
}

} // namespace

Mp4StreamWriter::Mp4StreamWriter(const AVStream& in, const std::string& path, int pixel_format) : path_(path), in_base_(in.time_base)
{
    AVFormatContext* raw = nullptr;
    check(avformat_alloc_output_context2(&raw, nullptr, "mp4", path.c_str()), "choosing the container of", path);
    out_.reset(raw);
    copy_ = avformat_new_stream(out_.get(), nullptr);
    if (copy_ == nullptr)
        throw std::bad_alloc();
    check(avcodec_parameters_copy(copy_->codecpar, in.codecpar), "copying the codec parameters into", path);
    copy_->codecpar->codec_tag = 0; // the source container's tag (MPEG-TS's stream type) may mean nothing in MP4
    if (copy_->codecpar->format < 0)
        copy_->codecpar->format = pixel_format;
    copy_->time_base = in.time_base;
    copy_->avg_frame_rate = in.avg_frame_rate;
    check(avio_open(&out_->pb, path.c_str(), AVIO_FLAG_WRITE), "opening the file", path);
    check(avformat_write_header(out_.get(), nullptr), "writing the header of", path);
    const AVRational rate = in.avg_frame_rate.num > 0 && in.avg_frame_rate.den > 0 ? in.avg_frame_rate : in.r_frame_rate;
    if (rate.num > 0 && rate.den > 0)
        frame_ticks_ = std::clamp<int64_t>(av_rescale_q(1, av_inv_q(rate), in.time_base), 1, int64_t(1) << 32);
}

int64_t Mp4StreamWriter::next_decoding_time(int64_t pts)
{
    if (waiting_.empty()) { // times before the first frame, a frame apart, to take until the reorder window fills
        // A damaged file's first time can be anything: kept where the subtraction cannot overflow (the muxer then
        // refuses what is out of order, with a message).
        const int64_t first = std::max(pts, std::numeric_limits<int64_t>::min() / 2);
        for (int64_t i = depth; i > 0; --i)
            waiting_.push_back(first - i * frame_ticks_);
    }
    waiting_.insert(std::upper_bound(waiting_.begin(), waiting_.end(), pts), pts);
    const int64_t earliest = waiting_.front();
    waiting_.erase(waiting_.begin());
    return earliest;
}

void Mp4StreamWriter::write(AVPacket* packet)
{
    packet->dts = next_decoding_time(packet->pts);
    // The muxer may have chosen a time base of its own (a multiple of the stream's) when writing the header.
    av_packet_rescale_ts(packet, in_base_, copy_->time_base);
    packet->stream_index = copy_->index;
    packet->pos = -1;
    check(av_interleaved_write_frame(out_.get(), packet), "writing a packet to", path_);
}

void Mp4StreamWriter::finish()
{
    check(av_write_trailer(out_.get()), "writing the index of", path_);
    check(avio_closep(&out_->pb), "closing the file", path_);
}

} // namespace jarvis
