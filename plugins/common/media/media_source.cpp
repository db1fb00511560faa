#include "media/media_source.hpp"

#include "media/container_index.hpp"
#include "media/ffmpeg_compat.hpp"
#include "media/ffmpeg_log.hpp"
#include "media/hdr_tone_map.hpp"
#include "media/hls_playlist.hpp"
#include "media/media_error.hpp"
#include "media/picture_signatures.hpp"
#include "media/playlist_fetch.hpp"
#include "media/stream_seek.hpp"
#include "media/video_streams.hpp"
#include "platform/file_access.hpp"
#include "platform/native_path.hpp"

extern "C" {
#include <libavutil/avstring.h>
}

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <tuple>
#include <utility>

namespace jarvis {
namespace {

[[noreturn]] void fail(const std::string& source, const std::string& reason)
{
    throw MediaError(fmt::format("cannot use video '{}': {}", source, reason));
}

// Checks a local path before FFmpeg does, because FFmpeg's messages ("No such file or directory", "Invalid data
// found when processing input") do not tell a directory from an empty file from a permission problem.
int64_t check_local_file(const std::string& path)
{
    namespace fs = std::filesystem;
    const fs::path native = native_path(path);
    std::error_code ec;
    const fs::file_status st = fs::status(native, ec);
    if (ec || !fs::exists(st)) {
        if (ec && ec != std::errc::no_such_file_or_directory)
            fail(path, ec.message());
        fail(path, "no such file");
    }
    if (fs::is_directory(st))
        fail(path, "it is a directory, not a video file");
    if (!fs::is_regular_file(st))
        fail(path, "not a regular file");
    if (const auto why = cannot_read(native))
        fail(path, fmt::format("cannot read it: {}", *why));
    const auto size = fs::file_size(native, ec);
    if (ec)
        fail(path, ec.message());
    if (size == 0)
        fail(path, "the file is empty");
    return static_cast<int64_t>(size);
}

// A file's first `size` bytes (fewer when it is shorter or cannot be read), to tell what it is where FFmpeg could not.
std::string file_head(const std::string& url, int size)
{
    AVIOContext* raw = nullptr;
    if (avio_open(&raw, url.c_str(), AVIO_FLAG_READ) < 0)
        return {};
    const av::IoContext io(raw);
    std::string head(static_cast<size_t>(size), '\0');
    head.resize(static_cast<size_t>(std::max(0, avio_read(io.get(), reinterpret_cast<unsigned char*>(head.data()), size))));
    return head;
}

} // namespace

bool is_http_url(const std::string& source)
{
    auto starts = [&](const char* prefix) { return source.size() > std::strlen(prefix) && av_strncasecmp(source.c_str(), prefix, std::strlen(prefix)) == 0; };
    return starts("http://") || starts("https://");
}

bool MediaSource::open_input(InterruptCheck interrupted, double io_timeout_s, std::shared_ptr<UrlRangeCache> url_cache,
                             bool unless_playlist)
{
    const std::string& source = info_.source;
    // Every open of a URL, the first and each worker's, gets them; without them a worker waits for a silent server
    // until cancelled.
    std::unique_ptr<AVDictionary, av::DictionaryFreer> options = info_.is_url ? url_io_options(io_timeout_s) : nullptr;
    interrupted_ = std::make_unique<InterruptCheck>(std::move(interrupted));
    AVFormatContext* raw = avformat_alloc_context();
    if (raw == nullptr)
        throw std::bad_alloc();
    raw->interrupt_callback.callback = &interrupt_requested;
    raw->interrupt_callback.opaque = interrupted_.get();
    // A playlist's segments, a URL's or a saved playlist's, may be on the network: without the I/O timeout, a
    // segment whose server goes silent would hold the request until it is cancelled.
    nested_opens_ = std::make_unique<NestedOpens>();
    nested_opens_->default_open = raw->io_open;
    nested_opens_->options = url_io_options(io_timeout_s);
    raw->opaque = nested_opens_.get();
    raw->io_open = &MediaSource::open_nested;
    // The path goes to FFmpeg behind "file:" so that names containing ':' are not taken for protocols.
    std::string url = info_.is_url ? info_.read_from() : "file:" + source;
    AVDictionary* opts = options.release();
    take_last_ffmpeg_error();
    int rc = 0;
    const AVInputFormat* format = nullptr; // found by probing
    if (info_.is_url && url_cache) {
        url_cache_ = url_cache;
        url_io_ = CachedUrlIo::open(url, std::move(url_cache), raw->interrupt_callback, &opts, rc);
        const bool playlist = url_io_ && hls::starts_as_playlist(url_io_->peek(16));
        if (playlist && unless_playlist) {
            // Its text is read on this connection: choosing its variant costs no request of its own.
            const PlaylistText text = read_playlist_text(url_io_->context(), raw->interrupt_callback, true);
            if (text.error == AVERROR(ETIMEDOUT))
                fail(source, av::error_string(text.error));
            sniffed_playlist_ = SniffedPlaylist{text.text, url_io_->location()};
            avformat_free_context(raw);
            url_io_.reset();
            url_cache_.reset();
            return false;
        }
        // FFmpeg 7.1 takes text for a playlist only under a playlist's name or MIME type, which this reader does not
        // carry (a master served as "manifest(format=m3u8-aapl)" would not be opened). What FFmpeg guards against
        // there, a playlist naming this machine's files, the protocol whitelist below rules out for every URL.
        if (playlist)
            format = av_find_input_format("hls");
        if (url_io_) {
            raw->pb = url_io_->context();
            raw->flags |= AVFMT_FLAG_CUSTOM_IO;
            url = url_io_->location(); // an HLS playlist's relative URLs name files where it was found
        } else {
            avformat_free_context(raw);
        }
    }
    // What the demuxer may open besides the source: an HLS playlist's segments and keys. A URL's only over the
    // network: a playlist from a server could otherwise name this machine's files (file:/home/...) and have them
    // sent on. A saved playlist, the user's own file, also over the network (FFmpeg's default for a file would
    // allow only files, and a playlist saved from a site names the site's segments).
    av_dict_set(&opts, "protocol_whitelist", info_.is_url ? "http,https,tls,tcp,crypto" : "file,crypto,data,http,https,tls,tcp", 0);
    if (rc >= 0)
        rc = avformat_open_input(&raw, url.c_str(), format, &opts); // frees raw on failure
    options.reset(opts);
    if (rc < 0) {
        // Cut short by the interrupt check, a read can fail with any error: the reason is the cancellation.
        if (rc == AVERROR_EXIT || interrupt_requested(interrupted_.get()) != 0)
            throw MediaCancelled();
        fail_if_read_failed();
        std::string detail = take_last_ffmpeg_error();
        if (rc == AVERROR_INVALIDDATA) {
            // Enough for a "ftyp" box's brands.
            constexpr int head_size = 64;
            const std::string kind = heif_kind(url_io_ ? url_io_->peek(head_size) : info_.is_url ? "" : file_head(url, head_size));
            if (!kind.empty())
                fail(source, "it is a " + kind + " picture (HEIF, as phones save photos), which this FFmpeg cannot read: convert it to "
                             "JPEG or PNG first");
            fail(source, "not a video file FFmpeg can read (" + (detail.empty() ? "invalid data" : detail) + ")");
        }
        // FFmpeg's HTTP client says only EIO, and logs nothing, when it gives up following redirects.
        if (rc == AVERROR(EIO) && info_.is_url && detail.empty())
            detail = "its server redirected it more than 8 times (a redirect loop?) or gave an answer that is not a video";
        fail(source, av::error_string(rc) + (detail.empty() ? "" : " (" + detail + ")"));
    }
    format_.reset(raw);
    return true;
}

void MediaSource::fail_if_read_failed() const
{
    // The demuxer may take a failed read for damage ("invalid data"): the server, or the copy, is the reason.
    if (url_io_ && !url_io_->read_error().empty())
        fail(info_.source, url_io_->read_error());
}

int64_t expected_frame_count(const MediaInfo& media)
{
    if (media.frame_count > 0)
        return media.frame_count;
    return media.duration_s > 0 && media.avg_fps > 0 ? static_cast<int64_t>(std::llround(media.duration_s * media.avg_fps)) : 0;
}

std::unique_ptr<AVDictionary, av::DictionaryFreer> url_io_options(double io_timeout_s)
{
    AVDictionary* options = nullptr;
    av_dict_set(&options, "rw_timeout", std::to_string(static_cast<int64_t>(io_timeout_s * 1e6)).c_str(), 0);
    av_dict_set(&options, "reconnect", "1", 0);
    // FFmpeg waits 0, 1, 3, 7 ... seconds between reconnections up to 120 by default, each also waiting out the I/O
    // timeout: a server that stalls would hold a request for over forty minutes at the default 300 s. One immediate
    // reconnection (the next wait, 1 s, is over the maximum), then the error.
    av_dict_set(&options, "reconnect_delay_max", "0", 0);
    return std::unique_ptr<AVDictionary, av::DictionaryFreer>(options);
}

int MediaSource::open_nested(AVFormatContext* s, AVIOContext** pb, const char* url, int flags, AVDictionary** options)
{
    const auto* nested = static_cast<const NestedOpens*>(s->opaque);
    if (options != nullptr && av_dict_copy(options, nested->options.get(), AV_DICT_DONT_OVERWRITE) < 0)
        return AVERROR(ENOMEM);
    return nested->default_open(s, pb, url, flags, options);
}

int interrupt_requested(void* opaque)
{
    const auto* check = static_cast<const MediaSource::InterruptCheck*>(opaque);
    return (*check && (*check)()) ? 1 : 0;
}

MediaSource MediaSource::open(const std::string& source, InterruptCheck interrupted, double io_timeout_s, size_t url_cache_bytes,
                              const VariantSizeWanted& size_wanted)
{
    MediaSource m;
    m.info_.source = source;
    m.info_.is_url = is_http_url(source);
    if (!m.info_.is_url) {
        if (source.find("://") != std::string::npos)
            fail(source, "only local paths and http(s) URLs are supported");
        m.info_.size_bytes = check_local_file(source);
    }

    // Every URL is read through a cache, one of no capacity too (video_url.cache_mb 0): its reader is also what knows
    // a playlist by its first bytes and copies what a server without range requests sends, so that it is sent once.
    const auto new_cache = [&] { return m.info_.is_url ? std::make_shared<UrlRangeCache>(url_cache_bytes) : nullptr; };
    const auto open_chosen = [&](bool unless_playlist) {
        if (m.info_.read_url.empty())
            return m.open_input(interrupted, io_timeout_s, new_cache(), unless_playlist);
        try {
            return m.open_input(interrupted, io_timeout_s, new_cache());
        } catch (const MediaError&) {
            // The variant the master named cannot be read as a playlist: FFmpeg's reading of the master finds what
            // can be, or says what is wrong with it.
            m.info_.read_url.clear();
            return m.open_input(interrupted, io_timeout_s, new_cache());
        }
    };
    // A URL that names a playlist has its text read first; any other URL only when its first bytes, which the
    // demuxer then reads from memory, show a playlist: a video's URL costs no request more.
    const bool choosing_variant = m.info_.is_url && size_wanted;
    const bool named_playlist = choosing_variant && names_playlist(source);
    if (named_playlist)
        m.choose_variant_before_opening(interrupted, io_timeout_s, size_wanted);
    if (!open_chosen(choosing_variant && !named_playlist)) {
        m.choose_variant_before_opening(interrupted, io_timeout_s, size_wanted);
        open_chosen(false);
    }
    AVFormatContext* raw = m.format_.get();
    int rc = 0;

    // Containers with a header (MP4, Matroska) already say what their streams are; probing would decode frames
    // just to look at them, which costs more than the rest of a request. Others (MPEG-TS, raw) are probed.
    if (!header_describes_video(raw)) {
        rc = avformat_find_stream_info(raw, nullptr);
        if (rc == AVERROR_EXIT || (rc < 0 && interrupt_requested(m.interrupted_.get()) != 0))
            throw MediaCancelled();
        if (rc < 0) {
            m.fail_if_read_failed();
            fail(source, "cannot read stream information: " + av::error_string(rc));
        }
    }

    // Any one stream of a grid is a tile (even a grid of one is cropped), or the thumbnail: sent as the photo, it would
    // not be the photo.
    if (av::is_grid_picture(raw))
        fail(source, "it is a picture stored as a grid of tiles (HEIF or AVIF, as phones save photos), which this FFmpeg does not "
                     "put together: convert it to JPEG or PNG first");
    const int chosen = choose_video_stream(raw);
    if (chosen < 0)
        fail(source, raw->nb_streams > 0 ? "it has no video stream (audio only?)" : "it has no streams");
    m.describe_stream(chosen);
    return m;
}

void MediaSource::choose_variant_before_opening(const InterruptCheck& interrupted, double io_timeout_s, const VariantSizeWanted& size_wanted)
{
    const AVIOInterruptCB interrupt{&interrupt_requested, const_cast<InterruptCheck*>(&interrupted)};
    // A media playlist is for FFmpeg alone to read: here, no further than the first read that shows it lists segments.
    PlaylistText master;
    if (sniffed_playlist_)
        master = {std::move(sniffed_playlist_->text), std::move(sniffed_playlist_->url)};
    else
        master = fetch_playlist_text(info_.source, interrupt, io_timeout_s, true);
    sniffed_playlist_.reset();
    // A silent server would only keep FFmpeg's own open waiting as long again; any other failure it reports in detail.
    if (master.error == AVERROR(ETIMEDOUT))
        fail(info_.source, av::error_string(master.error));
    const auto variants = hls::complete_master_variants(master.text, master.url);
    if (!variants)
        return;
    // The variants share one timeline: any of them gives the duration.
    const hls::Variant& largest = hls::largest_variant(*variants);
    const PlaylistText media_playlist = fetch_playlist_text(largest.url, interrupt, io_timeout_s, false);
    const auto length = hls::media_playlist_length(media_playlist.text);
    if (!length || !length->ended)
        return; // FFmpeg's reading of the master tells what is wrong (a live playlist, one that cannot be read)
    MediaInfo described = info_;
    described.width = largest.width;
    described.height = largest.height;
    described.duration_s = length->duration_s;
    described.avg_fps = largest.frame_rate;
    described.is_playlist = true;
    const auto [width, height] = size_wanted(described);
    const hls::Variant& chosen = hls::smallest_variant_covering(*variants, width, height);
    if (is_http_url(chosen.url))
        info_.read_url = chosen.url;
}

void MediaSource::rewind_to_start()
{
    const AVStream* in = stream();
    const int64_t start = in->start_time != AV_NOPTS_VALUE ? in->start_time : 0;
    const int rc = seek_stream(format(), stream_index_, start, AVSEEK_FLAG_BACKWARD);
    if (rc < 0)
        throw MediaError(fmt::format("cannot use video '{}': returning to its start failed: {}", info_.source, av::error_string(rc)));
}

void MediaSource::describe_stream(int index)
{
    AVFormatContext* raw = format_.get();
    // What belongs to the file, not to a stream, stays.
    MediaInfo fresh;
    fresh.source = info_.source;
    fresh.is_url = info_.is_url;
    fresh.size_bytes = info_.size_bytes;
    fresh.read_url = info_.read_url;
    info_ = std::move(fresh);
    const std::string& source = info_.source;
    stream_index_ = index;
    read_only_stream(raw, stream_index_);

    const AVStream* st = stream();
    const AVCodecParameters* par = st->codecpar;
    if (avcodec_find_decoder(par->codec_id) == nullptr) {
        // An unknown codec has no name; its container tag (a fourcc) is what a user can look up.
        char tag[AV_FOURCC_MAX_STRING_SIZE] = {};
        const std::string codec = par->codec_id != AV_CODEC_ID_NONE ? fmt::format("'{}'", avcodec_get_name(par->codec_id))
                                  : par->codec_tag != 0 ? fmt::format("with tag '{}'", av_fourcc_make_string(tag, par->codec_tag))
                                                        : std::string("of unknown kind");
        fail(source, fmt::format("its video codec {} is not supported by this FFmpeg", codec));
    }
    if (par->width <= 0 || par->height <= 0)
        fail(source, par->codec_id == AV_CODEC_ID_WEBP && is_animated_webp(raw->pb)
                         ? "it is an animated WebP, which this FFmpeg cannot decode (it decodes still WebP pictures only): "
                           "convert it to MP4 or GIF first"
                         : "its video stream has no picture size (damaged header?)");

    MediaInfo& info = info_;
    info.container = raw->iformat != nullptr ? raw->iformat->name : "";
    info.codec = avcodec_get_name(par->codec_id);
    info.coded_width = par->width;
    info.coded_height = par->height;
    info.rotation_deg = rotation_of(st);
    info.hdr = is_hdr_transfer(par->color_trc);
    info.decoder_memory = jarvis::decoder_memory(*par);

    std::tie(info.width, info.height) = displayed_size(raw, st);

    if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
        info.duration_s = double(st->duration) * av_q2d(st->time_base);
    else if (raw->duration != AV_NOPTS_VALUE && raw->duration > 0)
        info.duration_s = double(raw->duration) / AV_TIME_BASE;
    const AVRational fps = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    if (fps.num > 0 && fps.den > 0)
        info.avg_fps = av_q2d(fps);
    info.frame_count = st->nb_frames;
    info.is_playlist = info.container == "hls";
    OtherLoadersStreams other = other_loaders_streams(raw, stream_index_);
    info.first_video_stream_if_other = std::move(other.first_video_stream);
    info.best_video_stream_if_other = std::move(other.best_video_stream);
    // A URL that gives neither a size nor a duration is a live stream (a camera, a broadcast), or reads as one: it
    // has no end to sample up to, and copying it for the scan would fill the disk and never finish. A playlist has a
    // size of its own; only one that ends (#EXT-X-ENDLIST) gives a duration.
    if (info.is_url && info.duration_s <= 0 && info.is_playlist)
        fail(source, "it is a live HLS playlist (it has no #EXT-X-ENDLIST): there is no end to sample up to; record a clip "
                     "of it and give that");
    if (info.is_url && info.duration_s <= 0 && (raw->pb == nullptr || avio_size(raw->pb) <= 0))
        fail(source, "it is a live stream, or its server gives neither its size nor its duration: there is no end to "
                     "sample up to; record a clip of it and give that");
    load_deferred_index(raw, stream_index_);
    read_index(raw->pb, st, info);
    read_matroska_extent(raw, info, url_cache_.get());
}

bool MediaSource::use_smallest_variant_covering(int width, int height)
{
    if (!info_.is_playlist)
        return false;
    AVFormatContext* raw = format_.get();
    // HLS makes each variant a program of its own; a second video stream of one variant is another picture.
    const AVProgram* chosen_variant = av_find_program_from_stream(raw, nullptr, stream_index_);
    int best = -1;
    int64_t best_area = int64_t(info_.width) * info_.height;
    for (unsigned i = 0; i < raw->nb_streams; ++i) {
        const AVStream* st = raw->streams[i];
        const AVProgram* variant = av_find_program_from_stream(raw, nullptr, static_cast<int>(i));
        if (st->codecpar->codec_type != AVMEDIA_TYPE_VIDEO || (st->disposition & AV_DISPOSITION_ATTACHED_PIC) ||
            avcodec_find_decoder(st->codecpar->codec_id) == nullptr || variant == nullptr || variant == chosen_variant)
            continue;
        const auto [w, h] = displayed_size(raw, st);
        // The same picture at another size: a variant with another shape is another view, not a cheaper copy.
        const bool same_shape = std::abs(double(w) * info_.height - double(h) * info_.width) <= 0.02 * double(info_.width) * info_.height;
        if (w >= width && h >= height && same_shape && int64_t(w) * h < best_area) {
            best = static_cast<int>(i);
            best_area = int64_t(w) * h;
        }
    }
    if (best < 0)
        return false;
    describe_stream(best);
    return true;
}

MediaSource MediaSource::open_for_decoding(const std::string& source, int stream_index, InterruptCheck interrupted,
                                           double io_timeout_s, std::shared_ptr<UrlRangeCache> url_cache)
{
    MediaSource m;
    m.info_.source = source;
    m.info_.is_url = is_http_url(source);
    m.open_input(std::move(interrupted), io_timeout_s, std::move(url_cache));
    AVFormatContext* raw = m.format_.get();
    // Demuxers that find streams only while reading (some MPEG-TS) need the probe after all.
    if (stream_index >= static_cast<int>(raw->nb_streams)) {
        if (const int rc = avformat_find_stream_info(raw, nullptr); rc < 0)
            fail(source, "cannot read stream information: " + av::error_string(rc));
        if (stream_index >= static_cast<int>(raw->nb_streams))
            fail(source, "its video stream is gone on reopening");
    }
    m.stream_index_ = stream_index;
    read_only_stream(raw, stream_index);
    // HLS finds a time's segment by counting from its first packet's time, which it learns on reading that packet: a
    // seek before any read lands a segment late (or fails before the first). A packet is read and dropped here, since
    // every interval is decoded after a seek.
    if (raw->iformat != nullptr && std::strcmp(raw->iformat->name, "hls") == 0) {
        av::Packet first(av_packet_alloc());
        if (!first)
            throw std::bad_alloc();
        if (const int rc = av_read_frame(raw, first.get()); rc < 0 && rc != AVERROR_EOF) {
            if (rc == AVERROR_EXIT || interrupt_requested(m.interrupted_.get()) != 0)
                throw MediaCancelled();
            fail(source, "cannot read its first segment: " + av::error_string(rc));
        }
    }
    return m;
}

} // namespace jarvis
