#include "media/frame_index.hpp"

#include "media/frameless_demuxer.hpp"
#include "media/media_error.hpp"
#include "media/stream_seek.hpp"
#include "platform/native_path.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <list>
#include <map>
#include <mutex>

namespace jarvis {

std::optional<FrameGap> unusual_gap(const FrameIndex& index)
{
    if (index.frames.size() < 3)
        return std::nullopt;
    std::vector<double> spacings;
    spacings.reserve(index.frames.size() - 1);
    size_t widest = 1;
    for (size_t i = 1; i < index.frames.size(); ++i) {
        spacings.push_back(index.seconds(index.frames[i].pts) - index.seconds(index.frames[i - 1].pts));
        if (spacings.back() > spacings[widest - 1])
            widest = i;
    }
    const double longest = spacings[widest - 1];
    auto middle = spacings.begin() + static_cast<std::ptrdiff_t>(spacings.size() / 2);
    std::nth_element(spacings.begin(), middle, spacings.end());
    if (longest <= 0.5 || longest <= 4 * *middle)
        return std::nullopt;
    return FrameGap{index.seconds(index.frames[widest - 1].pts), index.seconds(index.frames[widest].pts)};
}

size_t FrameIndex::played_at(double s) const
{
    const int64_t target = pts_at(s);
    auto it = std::upper_bound(frames.begin(), frames.end(), target, [](int64_t t, const Entry& e) { return t < e.pts; });
    return it == frames.begin() ? 0 : static_cast<size_t>(it - frames.begin()) - 1;
}

size_t FrameIndex::nearest_keyframe(double s) const
{
    const int64_t target = pts_at(s);
    size_t best = 0;
    int64_t best_distance = INT64_MAX;
    for (size_t i = 0; i < frames.size(); ++i)
        if (frames[i].key && std::llabs(frames[i].pts - target) < best_distance) {
            best = i;
            best_distance = std::llabs(frames[i].pts - target);
        }
    return best;
}

namespace {

// The scan proper: every packet of `stream_index` read from `fmt` (the source's demuxer, or a frameless one of the
// same file), in the order the file holds them.
FrameIndex index_from_packets(AVFormatContext* fmt, int stream_index, const MediaInfo& info,
                              const MediaSource::InterruptCheck& interrupted, const ScanProgress& progress)
{
    const AVStream* stream = fmt->streams[stream_index];
    FrameIndex index;
    index.time_base = stream->time_base;

    struct Packet
    {
        int64_t pts;
        int64_t duration;
        bool key;
    };
    std::vector<Packet> packets;
    av::Packet packet(av_packet_alloc());
    if (!packet)
        throw std::bad_alloc();
    int64_t last_dts = AV_NOPTS_VALUE;
    int read_error = 0;
    const int64_t file_size = fmt->pb != nullptr ? avio_size(fmt->pb) : -1;
    for (uint64_t packets_read = 0;; ++packets_read) {
        if (interrupted && interrupted())
            throw MediaCancelled();
        const int rc = av_read_frame(fmt, packet.get());
        if (rc < 0) {
            // A read cut short by cancellation must not leave a short index behind (it would be cached).
            if (rc == AVERROR_EXIT || (interrupted && interrupted()))
                throw MediaCancelled();
            read_error = rc == AVERROR_EOF ? 0 : rc; // a truncated file ends early: what was read is the video
            break;
        }
        // Where the packet lies, not where the reader is: an MP4 index at the end would put the reader there first.
        if (progress && file_size > 0 && packets_read % 256 == 0 && packet->pos >= 0)
            progress(std::clamp(double(packet->pos) / double(file_size), 0.0, 1.0));
        if (packet->stream_index == stream_index && !(packet->flags & AV_PKT_FLAG_DISCARD)) {
            // Streams without pts (AVI, raw) have dts; streams with neither get the previous dts plus one tick.
            int64_t pts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
            if (pts == AV_NOPTS_VALUE)
                pts = last_dts == AV_NOPTS_VALUE ? 0 : last_dts + std::clamp<int64_t>(packet->duration, 1, INT32_MAX);
            // A timestamp no real video has is damage: left out, rather than overflowing the sums made with it.
            if (pts <= INT64_MAX / 4 && pts >= INT64_MIN / 4) {
                last_dts = packet->dts != AV_NOPTS_VALUE && packet->dts <= INT64_MAX / 4 && packet->dts >= INT64_MIN / 4 ? packet->dts : pts;
                packets.push_back({pts, packet->duration, (packet->flags & AV_PKT_FLAG_KEY) != 0});
            }
        }
        av_packet_unref(packet.get());
    }
    if (packets.empty())
        throw MediaError(fmt::format("cannot use video '{}': its video stream has no frames", info.source));
    if (progress) // reported every 256 packets: the last report may be well short of the end
        progress(1.0);

    // Keyframes are found in decode order; each frame decodes from the last keyframe before it in that order.
    std::vector<int64_t> keyframe_pts_for(packets.size());
    int64_t current_key = packets.front().pts;
    for (size_t i = 0; i < packets.size(); ++i) {
        if (packets[i].key)
            current_key = packets[i].pts;
        keyframe_pts_for[i] = current_key;
    }
    std::vector<size_t> order(packets.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return packets[a].pts < packets[b].pts; });
    index.frames.reserve(packets.size());
    for (size_t i : order)
        index.frames.push_back({packets[i].pts, 0, packets[i].key});
    for (size_t p = 0; p < order.size(); ++p) {
        const int64_t key_pts = keyframe_pts_for[order[p]];
        const auto it = std::lower_bound(index.frames.begin(), index.frames.end(), key_pts,
                                         [](const FrameIndex::Entry& e, int64_t t) { return e.pts < t; });
        // An open-GOP leading frame may sort before its keyframe; it then starts from the keyframe before.
        size_t key_position = static_cast<size_t>(it - index.frames.begin());
        if (key_position > p)
            while (key_position > 0 && !(index.frames[key_position].key && key_position <= p))
                --key_position;
        index.frames[p].keyframe = key_position;
    }
    index.origin_pts = index.frames.front().pts;
    const Packet& last = packets[order.back()];
    int64_t last_duration = last.duration;
    if (last_duration <= 0 && index.frames.size() > 1)
        last_duration = index.frames.back().pts - index.frames[index.frames.size() - 2].pts;
    index.end_s = index.seconds(index.frames.back().pts + std::max<int64_t>(last_duration, 0));

    // A header that promises more than the data holds means a truncated or damaged file.
    const double promised = info.duration_s;
    const double frame_s = index.frames.size() > 1 ? index.end_s / double(index.frames.size()) : 0;
    // Where packets carry no duration (WebM) the last one is guessed from the frames before it, in the container's
    // rounded units; the muxer knew it. A header within a frame of the scan's end is the exacter of the two, and the
    // one the index made by seeking uses: both then choose the same frames.
    if (read_error == 0 && promised > 0 && std::abs(promised - index.end_s) < frame_s)
        index.end_s = promised;
    if (read_error != 0)
        index.damage = fmt::format("reading stopped at {:.2f} s: {}", index.end_s, av::error_string(read_error));
    else if (promised > index.end_s + std::max(0.5, 2 * frame_s))
        index.damage = fmt::format("the file's frames end at {:.2f} s although its header says {:.2f} s (truncated?)", index.end_s, promised);
    return index;
}

} // namespace

FrameIndex scan_frame_index(MediaSource& source, const MediaSource::InterruptCheck& interrupted, const ScanProgress& progress)
{
    // MP4 and MOV give every frame in their sample tables: the packets are read without the frames' bytes.
    if (const auto frameless = FramelessDemuxer::open(source, source.format()->interrupt_callback))
        return index_from_packets(frameless->format(), frameless->stream_index(), source.info(), interrupted, progress);
    return scan_frame_index_reading_every_packet(source, interrupted, progress);
}

FrameIndex scan_frame_index_reading_every_packet(MediaSource& source, const MediaSource::InterruptCheck& interrupted,
                                                 const ScanProgress& progress)
{
    return index_from_packets(source.format(), source.stream_index(), source.info(), interrupted, progress);
}

std::shared_ptr<const FrameIndex> cached_frame_index(MediaSource& source, const MediaSource::InterruptCheck& interrupted,
                                                     bool scan_if_missing, const ScanProgress& progress)
{
    struct Cached
    {
        std::string key;
        std::shared_ptr<const FrameIndex> index;
    };
    static std::mutex mutex;
    static std::list<Cached> cache; // most recently used first
    constexpr size_t capacity = 16;

    std::string key;
    if (!source.info().is_url) {
        std::error_code ec;
        const auto file = native_path(source.info().source);
        const auto mtime = std::filesystem::last_write_time(file, ec);
        if (!ec)
            key = fmt::format("{}|{}|{}|{}", utf8_path(std::filesystem::absolute(file)), source.info().size_bytes,
                              mtime.time_since_epoch().count(), source.stream_index());
    }
    if (!key.empty()) {
        std::lock_guard lock(mutex);
        for (auto it = cache.begin(); it != cache.end(); ++it)
            if (it->key == key) {
                cache.splice(cache.begin(), cache, it);
                return it->index;
            }
    }
    if (!scan_if_missing)
        return nullptr;
    auto index = std::make_shared<const FrameIndex>(scan_frame_index(source, interrupted, progress));
    if (!key.empty()) {
        std::lock_guard lock(mutex);
        cache.push_front({key, index});
        if (cache.size() > capacity)
            cache.pop_back();
    }
    return index;
}

} // namespace jarvis

namespace jarvis {

namespace {

// Reads a stream's packets after seeks, for the indexes made by seeking. Only containers with a sample index (MP4's
// tables, Matroska's cues) land on true keyframes when seeking; others (MPEG-TS) land anywhere and flag packets after
// a seek as keyframes that are not, so they are not usable.
class SeekingReader
{
public:
    explicit SeekingReader(MediaSource& source) : source_(source), fmt_(source.format()), packet_(av_packet_alloc())
    {
        if (!packet_)
            throw std::bad_alloc();
    }

    bool usable() const
    {
        return source_.info().duration_s > 0 && !(fmt_->iformat->flags & AVFMT_NOTIMESTAMPS) &&
               avformat_index_get_entries_count(source_.stream()) > 0;
    }

    bool seek(int64_t pts) { return seek_stream(fmt_, source_.stream_index(), pts, AVSEEK_FLAG_BACKWARD) >= 0; }

    // The next packet of the stream: its pts (or dts), dts and whether it is a keyframe.
    bool next(int64_t& pts, int64_t& dts, bool& key)
    {
        while (av_read_frame(fmt_, packet_.get()) >= 0) {
            // Packets an edit list discards are decoded but never shown: they are not frames of the video.
            const bool ours = packet_->stream_index == source_.stream_index() && !(packet_->flags & AV_PKT_FLAG_DISCARD);
            pts = packet_->pts != AV_NOPTS_VALUE ? packet_->pts : packet_->dts;
            dts = packet_->dts;
            key = (packet_->flags & AV_PKT_FLAG_KEY) != 0;
            av_packet_unref(packet_.get());
            if (ours && pts != AV_NOPTS_VALUE)
                return true;
        }
        return false;
    }

    // Time 0 is the first presented frame: the smallest pts among the first packets (B-frames come out of order).
    std::optional<int64_t> origin()
    {
        const AVStream* stream = source_.stream();
        if (!seek(stream->start_time != AV_NOPTS_VALUE ? stream->start_time : 0))
            return std::nullopt;
        int64_t origin = INT64_MAX;
        int64_t pts = 0, dts = 0;
        bool key = false;
        for (int i = 0; i < 16 && next(pts, dts, key); ++i)
            origin = std::min(origin, pts);
        return origin == INT64_MAX ? std::nullopt : std::optional<int64_t>(origin);
    }

private:
    MediaSource& source_;
    AVFormatContext* fmt_;
    av::Packet packet_;
};

// An index with no frames yet: the stream's time base, its origin and the header's duration; nothing where the
// container cannot be indexed by seeking.
std::optional<FrameIndex> empty_index(SeekingReader& reader, const MediaSource& source)
{
    if (!reader.usable())
        return std::nullopt;
    const auto origin = reader.origin();
    if (!origin)
        return std::nullopt;
    FrameIndex index;
    index.time_base = source.stream()->time_base;
    index.origin_pts = *origin;
    index.end_s = source.info().duration_s;
    return index;
}

} // namespace

std::optional<FrameIndex> keyframe_index_by_seeking(MediaSource& source, const std::vector<double>& times)
{
    SeekingReader reader(source);
    std::optional<FrameIndex> started = empty_index(reader, source);
    if (!started)
        return std::nullopt;
    FrameIndex& index = *started;

    int64_t pts = 0, dts = 0;
    bool key = false;
    for (const double t : times) {
        if (!reader.seek(index.pts_at(t)) || !reader.next(pts, dts, key))
            return std::nullopt;
        if (!key)
            return std::nullopt; // a demuxer that does not land on keyframes: scan instead
        const auto at = std::lower_bound(index.frames.begin(), index.frames.end(), pts,
                                         [](const FrameIndex::Entry& e, int64_t p) { return e.pts < p; });
        if (at == index.frames.end() || at->pts != pts)
            index.frames.insert(at, {pts, 0, true});
    }
    if (index.frames.empty())
        return std::nullopt;
    for (size_t i = 0; i < index.frames.size(); ++i)
        index.frames[i].keyframe = i;
    return index;
}

std::optional<FrameIndex> interval_index_by_seeking(MediaSource& source, const std::vector<double>& times,
                                                    const MediaSource::InterruptCheck& interrupted)
{
    SeekingReader reader(source);
    std::optional<FrameIndex> started = empty_index(reader, source);
    if (!started)
        return std::nullopt;
    FrameIndex& index = *started;

    // Each frame with the pts of the keyframe its interval starts from; the first interval to see a frame keeps it.
    std::map<int64_t, std::pair<int64_t, bool>> frames; // pts -> (keyframe pts, key)
    // Past the target once a packet's dts is (dts never exceeds pts), or, where the container gives no dts, after more
    // packets past it than any decoder reorders.
    constexpr int reorder_limit = 16;
    int64_t pts = 0, dts = 0;
    bool key = false;
    for (const double t : times) {
        if (interrupted && interrupted())
            throw MediaCancelled();
        const int64_t target = index.pts_at(t);
        if (!reader.seek(target) || !reader.next(pts, dts, key) || !key || pts > target)
            return std::nullopt; // no keyframe at or before the time: scan instead
        // Only frames shown from the keyframe up to the target: a later one may start the next interval, which its own
        // seek finds; an earlier one is an open GOP's leading frame (HEVC's RASL), which needs the keyframe before.
        const int64_t key_pts = pts;
        int past = 0;
        do {
            if (pts <= target && pts >= key_pts)
                frames.emplace(pts, std::make_pair(key_pts, pts == key_pts));
            else
                ++past;
            if ((dts != AV_NOPTS_VALUE && dts > target) || past >= reorder_limit)
                break;
        } while (reader.next(pts, dts, key));
    }
    if (frames.empty())
        return std::nullopt;
    index.frames.reserve(frames.size());
    std::map<int64_t, size_t> position_of;
    for (const auto& [frame_pts, info] : frames) {
        position_of[frame_pts] = index.frames.size();
        index.frames.push_back({frame_pts, 0, info.second});
    }
    for (auto& entry : index.frames)
        entry.keyframe = static_cast<int64_t>(position_of.at(frames.at(entry.pts).first));
    return index;
}

} // namespace jarvis
