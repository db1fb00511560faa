#pragma once

#include "media/av_handles.hpp"
#include "media/cached_url_io.hpp"
#include "media/decode_memory.hpp"
#include "media/url_range_cache.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace jarvis {

// What a video is, as a player would show it.
struct MediaInfo
{
    std::string source;
    bool is_url = false;
    std::string container;  // FFmpeg's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    std::string codec;      // e.g. "h264"
    int coded_width = 0;    // as stored
    int coded_height = 0;
    int width = 0;          // as displayed: sample aspect ratio and rotation applied
    int height = 0;
    int rotation_deg = 0;   // clockwise rotation a player applies: 0, 90, 180 or 270
    double duration_s = 0;  // 0 when unknown
    double avg_fps = 0;     // 0 when unknown
    int64_t frame_count = 0; // from the container's header; 0 when it does not say
    int64_t indexed_keyframes = 0; // keyframes the container's own index lists (MP4, Matroska); 0 when it has none
    // Where the data ends, in seconds from the start, when the file is cut short (a download or a copy stopped
    // midway): an MP4 whose index, coming first, lists frames past the end of the file, or a local Matroska whose
    // Segment is said to be longer than the file (then about where: its share of the Segment's bytes); unset otherwise.
    std::optional<double> index_cut_at_s;
    // How far a frame's time counted at the average rate (its position / avg_fps, what vLLM's loader prints) strays
    // from its true time, at the most, by the container's index of every frame (MP4); 0 for a constant rate or where
    // the index does not list every frame.
    double average_rate_error_s = 0;
    // Where the stream read is not the one a loader of the whole file would take, that stream ("stream 0: png
    // 200x200"): the container's first video stream (what OpenCV reads, cover art or not) and FFmpeg's own pick
    // (av_find_best_stream, what TorchCodec reads). Empty where it is the stream read. Files whose first track is a
    // cover picture or another camera's view have them.
    std::string first_video_stream_if_other;
    std::string best_video_stream_if_other;
    // A PQ or HLG transfer (phones record HLG by default): our frames are tone mapped; a server's loader shows the
    // picture without tone mapping, flat and dim.
    bool hdr = false;
    DecoderMemory decoder_memory; // what one decoder of the stream takes (the frames delivery's budget of them)
    int64_t size_bytes = -1; // for local files
    // An HLS playlist (.m3u8): its segments are separate files that the demuxer fetches by their own URLs, so the
    // playlist's bytes alone (a copy of them, or what a server's loader fetches) are not a video.
    bool is_playlist = false;
    // What FFmpeg reads when it is not `source`: the variant playlist of an HLS master, chosen from the master's text
    // before any segment was fetched. Reopening for decoding reads it too; messages name `source`.
    std::string read_url;
    const std::string& read_from() const { return read_url.empty() ? source : read_url; }
};

// An opened video: the demuxer and the chosen video stream (never cover art).
class MediaSource
{
public:
    using InterruptCheck = std::function<bool()>;
    // The displayed size frames need of a video described by `largest`: its largest HLS variant's size, with the
    // playlist's duration and frame rate (0 when the master does not give it).
    using VariantSizeWanted = std::function<std::pair<int, int>(const MediaInfo& largest)>;

    // Opens a local path or an http(s) URL. Throws MediaError with the source and the reason.
    // `interrupted` is polled during blocking I/O; when it returns true the open fails with "cancelled".
    // A URL's bytes are kept as they are read (url_cache()), up to `url_cache_bytes` (0: not kept).
    // With `size_wanted`, an HLS master URL whose variants all give their size is opened at the smallest variant that
    // covers it (hls_playlist.hpp): the others are never fetched. Other masters are opened whole. A URL is known for a
    // playlist by its path (".m3u8", ".m3u") or by its first bytes.
    static MediaSource open(const std::string& source, InterruptCheck interrupted = {}, double io_timeout_s = 30,
                            size_t url_cache_bytes = UrlRangeCache::default_capacity, const VariantSizeWanted& size_wanted = {});

    // Opens `source` again for decoding `stream_index`, which an earlier open() chose: no stream probing (it decodes
    // frames just to look at them), the caller has the codec parameters already. URLs get the same I/O timeout, and
    // with `url_cache` (the first open's) read what that open read from memory.
    static MediaSource open_for_decoding(const std::string& source, int stream_index, InterruptCheck interrupted,
                                         double io_timeout_s = 30, std::shared_ptr<UrlRangeCache> url_cache = nullptr);

    // An HLS master playlist offers one video at several sizes: this switches to the smallest whose picture is at
    // least `width` x `height` as displayed, where that is smaller than the chosen one (only what is read costs).
    // Returns whether it switched; info() then describes that variant. Only before anything is read.
    bool use_smallest_variant_covering(int width, int height);

    // Back to the stream's first packet, for a reading from the start after others (seeks, a copy). Throws
    // MediaError naming the source when the demuxer cannot seek there.
    void rewind_to_start();

    const MediaInfo& info() const { return info_; }
    AVFormatContext* format() const { return format_.get(); }
    AVStream* stream() const { return format_->streams[stream_index_]; }
    int stream_index() const { return stream_index_; }
    // A URL's bytes read so far (the header, an index made by seeking), for the decoding's opens; null for a file.
    const std::shared_ptr<UrlRangeCache>& url_cache() const { return url_cache_; }
    // Whether this URL's server takes no range requests, so that its bytes are read once, in order, into a temporary
    // copy (CachedUrlIo::reads_in_order): anything else that reads the URL would fetch it from its start again.
    bool reads_url_in_order() const { return url_io_ && url_io_->reads_in_order(); }
    // That copy, completed from the network: the whole video on this machine's disk, for the scan and the decoding.
    // Nothing where the URL is not read in order. Throws MediaCancelled, or MediaError naming the URL.
    std::shared_ptr<const DownloadedCopy> finish_in_order_copy(const std::function<void(double)>& progress)
    {
        return url_io_ ? url_io_->finish_in_order_copy(progress) : nullptr;
    }

private:
    MediaSource() = default;
    // Opens the demuxer for info_.read_from() with the interrupt check installed and, for a URL, its I/O timeout;
    // fails naming the source and the reason. With `unless_playlist`, a cached URL whose first bytes are a playlist's
    // is not opened: false, for its variant to be chosen first.
    bool open_input(InterruptCheck interrupted, double io_timeout_s, std::shared_ptr<UrlRangeCache> url_cache,
                    bool unless_playlist = false);
    // Throws MediaError with the reason when reading a URL stopped short (its server, or writing its in-order copy).
    void fail_if_read_failed() const;
    // Sets info_.read_url to the variant of an HLS master `size_wanted` chooses, where the master allows a choice.
    void choose_variant_before_opening(const InterruptCheck& interrupted, double io_timeout_s, const VariantSizeWanted& size_wanted);
    // Makes `index` the stream read and info_ its description; fails naming the source where it cannot be decoded.
    void describe_stream(int index);

    // What the demuxer's own opens (an HLS playlist's segments and keys) are given: the URL's I/O options, which
    // FFmpeg copies from the demuxer's reader only when that reader is its own, not a cached URL's.
    struct NestedOpens
    {
        decltype(AVFormatContext::io_open) default_open = nullptr;
        std::unique_ptr<AVDictionary, av::DictionaryFreer> options;
    };
    static int open_nested(AVFormatContext* s, AVIOContext** pb, const char* url, int flags, AVDictionary** options);

    // The text of a playlist known by its first bytes, read on that connection, and where it came from after
    // redirects: choose_variant_before_opening takes it instead of fetching it again.
    struct SniffedPlaylist
    {
        std::string text;
        std::string url;
    };
    std::optional<SniffedPlaylist> sniffed_playlist_;
    std::unique_ptr<InterruptCheck> interrupted_; // stable address for FFmpeg's callback
    std::shared_ptr<UrlRangeCache> url_cache_;
    std::unique_ptr<CachedUrlIo> url_io_;         // the demuxer's reader of a cached URL: outlives the demuxer
    std::unique_ptr<NestedOpens> nested_opens_;   // stable address for FFmpeg's callback: outlives the demuxer
    av::FormatContext format_;
    int stream_index_ = -1;
    MediaInfo info_;
};

bool is_http_url(const std::string& source);

// The frames the header promises; where it states no count (Matroska, WebM) the duration at the average rate; 0 when
// neither is known.
int64_t expected_frame_count(const MediaInfo& media);

// FFmpeg's options for reading a URL: give up on a stalled server after `io_timeout_s`, reconnect a dropped one
// once, at once (a server that keeps stalling fails a read after two timeouts).
// Every reader of a URL uses them (the demuxer's opens and a download).
std::unique_ptr<AVDictionary, av::DictionaryFreer> url_io_options(double io_timeout_s);

// FFmpeg's interrupt callback over a MediaSource::InterruptCheck passed as `opaque`: 1 once it says stop.
int interrupt_requested(void* opaque);

} // namespace jarvis
