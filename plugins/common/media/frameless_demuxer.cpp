#include "media/frameless_demuxer.hpp"

#include "media/video_streams.hpp"

extern "C" {
#include <libavutil/mem.h>
}

#include <algorithm>
#include <cstring>
#include <optional>

namespace jarvis {
namespace {

constexpr const char* mp4_demuxer = "mov,mp4,m4a,3gp,3g2,mj2";
constexpr int reader_buffer_size = 64 * 1024;

// Codecs whose MP4 packets FFmpeg reads without looking into them, or parses only for keyframes at recovery points
// and field order (mov.c's need_parsing): with parsing off, their packets' times and flags are the sample tables'.
bool packets_are_opaque(AVCodecID codec)
{
    return codec == AV_CODEC_ID_H264 || codec == AV_CODEC_ID_HEVC || codec == AV_CODEC_ID_AV1;
}

// A box's header at the reader's position: its type and where it ends; nothing at the end or on a bad size.
struct BoxHeader
{
    uint32_t type = 0;
    int64_t end = 0;
};
std::optional<BoxHeader> read_box_header(AVIOContext* file, int64_t file_size)
{
    const int64_t start = avio_tell(file);
    uint64_t size = avio_rb32(file);
    const uint32_t type = avio_rl32(file);
    if (size == 1)
        size = avio_rb64(file);
    else if (size == 0)
        size = static_cast<uint64_t>(file_size - start); // to the file's end
    if (avio_feof(file) || size < 8 || size > static_cast<uint64_t>(file_size - start))
        return std::nullopt;
    return BoxHeader{type, start + static_cast<int64_t>(size)};
}

// Whether the movie box lists every frame ahead: it is found among the first top-level boxes, no fragment comes before
// it and it has no movie-extends box. A fragmented file lists its later frames in fragments between their data, which
// the demuxer reads as it goes, so their bytes cannot be known ahead and skipped. Where the boxes cannot be walked,
// no: the scan of every packet is then the safe one.
bool movie_box_lists_every_frame(AVIOContext* file, int64_t file_size)
{
    constexpr int max_boxes = 64;
    for (int i = 0; i < max_boxes; ++i) {
        const auto box = read_box_header(file, file_size);
        if (!box || box->type == MKTAG('m', 'o', 'o', 'f'))
            return false;
        if (box->type == MKTAG('m', 'o', 'o', 'v')) {
            while (avio_tell(file) < box->end) {
                const auto child = read_box_header(file, box->end);
                if (!child || child->type == MKTAG('m', 'v', 'e', 'x') || avio_seek(file, child->end, SEEK_SET) < 0)
                    return false;
            }
            return true;
        }
        if (avio_seek(file, box->end, SEEK_SET) < 0)
            return false;
    }
    return false;
}

} // namespace

std::unique_ptr<FramelessDemuxer> FramelessDemuxer::open(const MediaSource& source, const AVIOInterruptCB& interrupt)
{
    const MediaInfo& info = source.info();
    const AVFormatContext* own = source.format();
    if (info.is_url || info.is_playlist || info.indexed_keyframes <= 0 || own->iformat == nullptr ||
        std::strcmp(own->iformat->name, mp4_demuxer) != 0 || !packets_are_opaque(source.stream()->codecpar->codec_id))
        return nullptr;
    std::unique_ptr<FramelessDemuxer> d(new FramelessDemuxer());
    // "file:" so that names containing ':' are not taken for protocols, as the source was opened.
    if (avio_open2(&d->file_, ("file:" + info.source).c_str(), AVIO_FLAG_READ, &interrupt, nullptr) < 0)
        return nullptr;
    d->size_ = avio_size(d->file_);
    if (d->size_ <= 0 || !movie_box_lists_every_frame(d->file_, d->size_) || avio_seek(d->file_, 0, SEEK_SET) != 0)
        return nullptr;
    auto* buffer = static_cast<unsigned char*>(av_malloc(reader_buffer_size));
    if (buffer == nullptr)
        return nullptr;
    d->outer_ = avio_alloc_context(buffer, reader_buffer_size, 0, d.get(), &FramelessDemuxer::read, nullptr, &FramelessDemuxer::seek);
    if (d->outer_ == nullptr) {
        av_free(buffer);
        return nullptr;
    }
    d->format_ = avformat_alloc_context();
    if (d->format_ == nullptr)
        return nullptr;
    d->format_->pb = d->outer_;
    d->format_->interrupt_callback = interrupt;
    // No parsing. FFmpeg's filling in of what packets lack stays: MP4's packets are whole frames, as it needs, and
    // it gives a packet without a duration (one with B-frames) the one the scan of every packet gives it.
    d->format_->flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_NOPARSE;
    if (avformat_open_input(&d->format_, info.source.c_str(), av_find_input_format("mov"), nullptr) < 0)
        return nullptr; // format_ freed and nulled
    // The same file through the same demuxer: the same streams, unless the file changed in between.
    const int chosen = source.stream_index();
    if (d->format_->nb_streams != own->nb_streams || d->format_->streams[chosen]->codecpar->codec_id != source.stream()->codecpar->codec_id)
        return nullptr;
    d->stream_index_ = chosen;
    // What the source's probing estimated and the filling in takes a frame's duration from, above all the last
    // frame's, which ends the video.
    d->format_->streams[chosen]->r_frame_rate = source.stream()->r_frame_rate;
    read_only_stream(d->format_, chosen);
    d->skip_samples_of(d->format_->streams[chosen]);
    return d;
}

FramelessDemuxer::~FramelessDemuxer()
{
    avformat_close_input(&format_); // leaves a custom reader open
    if (outer_ != nullptr)
        av_freep(&outer_->buffer);
    avio_context_free(&outer_);
    avio_closep(&file_);
}

void FramelessDemuxer::skip_samples_of(const AVStream* stream)
{
    auto* st = const_cast<AVStream*>(stream);
    const int count = avformat_index_get_entries_count(st);
    skipped_.reserve(static_cast<size_t>(std::max(count, 0)));
    for (int i = 0; i < count; ++i) {
        const AVIndexEntry* e = avformat_index_get_entry(st, i);
        // A sample past the file's end (a cut-short file) is not made up: reading it fails as reading the file does.
        const int64_t start = e->pos;
        const int64_t end = std::min<int64_t>(e->pos + e->size, size_);
        if (start >= 0 && start < end)
            skipped_.emplace_back(start, end);
    }
    std::sort(skipped_.begin(), skipped_.end());
    std::vector<std::pair<int64_t, int64_t>> merged;
    for (const auto& range : skipped_) {
        if (!merged.empty() && range.first <= merged.back().second)
            merged.back().second = std::max(merged.back().second, range.second);
        else
            merged.push_back(range);
    }
    skipped_ = std::move(merged);
}

int FramelessDemuxer::read(void* opaque, uint8_t* buffer, int size)
{
    auto& d = *static_cast<FramelessDemuxer*>(opaque);
    if (d.position_ >= d.size_)
        return AVERROR_EOF;
    int64_t wanted = std::min<int64_t>(size, d.size_ - d.position_);
    // The first range starting after the position; the one before it may hold the position.
    const auto next = std::upper_bound(d.skipped_.begin(), d.skipped_.end(), d.position_,
                                       [](int64_t at, const std::pair<int64_t, int64_t>& range) { return at < range.first; });
    if (next != d.skipped_.begin() && d.position_ < std::prev(next)->second) {
        const int64_t zeros = std::min(wanted, std::prev(next)->second - d.position_);
        std::memset(buffer, 0, static_cast<size_t>(zeros));
        d.position_ += zeros;
        return static_cast<int>(zeros);
    }
    if (next != d.skipped_.end())
        wanted = std::min(wanted, next->first - d.position_);
    if (avio_tell(d.file_) != d.position_) {
        const int64_t at = avio_seek(d.file_, d.position_, SEEK_SET);
        if (at < 0)
            return static_cast<int>(at);
    }
    const int got = avio_read(d.file_, buffer, static_cast<int>(wanted));
    if (got > 0)
        d.position_ += got;
    return got == 0 ? AVERROR_EOF : got;
}

int64_t FramelessDemuxer::seek(void* opaque, int64_t offset, int whence)
{
    auto& d = *static_cast<FramelessDemuxer*>(opaque);
    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE)
        return d.size_;
    int64_t target = -1;
    if (whence == SEEK_SET)
        target = offset;
    else if (whence == SEEK_CUR)
        target = d.position_ + offset;
    else if (whence == SEEK_END)
        target = d.size_ + offset;
    if (target < 0)
        return AVERROR(EINVAL);
    d.position_ = target; // past the end as a file allows: the next read says EOF
    return target;
}

} // namespace jarvis
