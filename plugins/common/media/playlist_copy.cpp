#include "media/playlist_copy.hpp"

#include "media/media_error.hpp"
#include "media/mp4_stream_writer.hpp"
#include "platform/native_path.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

namespace jarvis {
namespace {

namespace fs = std::filesystem;

// Why a copy stopped that the caller can do without (it reads the playlist itself).
struct CopyAbandoned
{
    std::string why;
};

// Whether what is left to copy, as far as the share written so far tells, fits in the free room with as much again to
// spare, so that a copy does not fill the disk for everything else.
void check_room(const fs::path& path, int64_t written, double share_done)
{
    if (share_done < 0.05 || written <= 0)
        return; // too early to tell the whole size
    std::error_code ec;
    const auto space = fs::space(path.parent_path(), ec);
    const double whole = double(written) / share_done;
    if (!ec && double(space.available) < (whole - double(written)) + whole)
        throw CopyAbandoned{fmt::format("{:.0f} MB free in {}, too little for a copy of about {:.0f} MB",
                                        double(space.available) / 1e6, utf8_path(path.parent_path()), whole / 1e6)};
}

// Copies every packet of the chosen stream into the MP4 at `path`.
void write_copy(MediaSource& source, const fs::path& path, const MediaSource::InterruptCheck& interrupted, const ScanProgress& progress)
{
    const AVStream* in = source.stream();
    Mp4StreamWriter copy(*in, utf8_path(path));
    const double duration_s = source.info().duration_s;
    const double start_s = in->start_time != AV_NOPTS_VALUE ? double(in->start_time) * av_q2d(in->time_base) : 0;
    av::Packet packet(av_packet_alloc());
    if (!packet)
        throw std::bad_alloc();
    for (uint64_t packets_read = 0;; ++packets_read) {
        if (interrupted && interrupted())
            throw MediaCancelled();
        const int rc = av_read_frame(source.format(), packet.get());
        if (rc == AVERROR_EOF)
            break;
        if (rc < 0) {
            if (rc == AVERROR_EXIT || (interrupted && interrupted()))
                throw MediaCancelled();
            // Reading the playlist itself meets the same failure and says what it does to the frames.
            throw CopyAbandoned{fmt::format("reading it failed: {}", av::error_string(rc))};
        }
        const bool ours = packet->stream_index == source.stream_index() && !(packet->flags & AV_PKT_FLAG_DISCARD);
        if (packet->pts == AV_NOPTS_VALUE)
            packet->pts = packet->dts; // shown when decoded: no reordering
        if (!ours || packet->pts == AV_NOPTS_VALUE) {
            av_packet_unref(packet.get());
            continue;
        }
        const double at_s = double(packet->pts) * av_q2d(in->time_base);
        copy.write(packet.get());
        if (packets_read % 256 == 0 && duration_s > 0) {
            const double share = std::clamp((at_s - start_s) / duration_s, 0.0, 1.0);
            check_room(path, copy.bytes_written(), share);
            if (progress)
                progress(share);
        }
    }
    copy.finish();
    if (progress)
        progress(1.0);
}

} // namespace

bool saved_playlist_names_network(const std::string& path)
{
    std::ifstream in(native_path(path), std::ios::binary);
    std::string text(1 << 20, '\0'); // a playlist of hours lists a few thousand segments: far less than this
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text.find("http://") != std::string::npos || text.find("https://") != std::string::npos;
}

std::shared_ptr<const DownloadedCopy> copy_playlist(MediaSource& source, const MediaSource::InterruptCheck& interrupted,
                                                   const ScanProgress& progress, std::string& why_not)
{
    fs::path path;
    try {
        path = new_copy_path(".mp4");
    } catch (const fs::filesystem_error& e) {
        why_not = fmt::format("no temporary folder ({})", e.what());
        return nullptr;
    }
    // Removed when it goes out of use, and at once when the copy fails or is cancelled.
    auto copy = std::make_shared<const DownloadedCopy>(utf8_path(path));
    try {
        write_copy(source, path, interrupted, progress);
        return copy;
    } catch (const CopyAbandoned& abandoned) {
        why_not = abandoned.why;
    } catch (const Mp4StreamWriter::Failure& failure) {
        why_not = failure.what();
    }
    copy.reset();
    source.rewind_to_start();
    return nullptr;
}

} // namespace jarvis
