#pragma once

#include "media/frame_index.hpp"
#include "media/media_source.hpp"
#include "media/url_download.hpp"

#include <memory>
#include <string>

namespace jarvis {

// Whether a playlist saved on this machine (UTF-8 path) names anything on the network (segments, variants, keys):
// then reading it twice, to find the frames and to decode them, would fetch those twice. False when it cannot be read.
bool saved_playlist_names_network(const std::string& path);

// An HLS playlist's video, read once through its segments into one local MP4 (the chosen stream only, packets as they
// are, timestamps in the stream's own time base), so that finding the frames and decoding them read this machine's
// disk, with every core, instead of fetching every segment twice. A segment the demuxer skips (a silent server, a 404)
// is a gap in the copy, as in the playlist.
//
// `source` must not have been read from yet (it is read to its end). Where the copy cannot be made (no temporary
// folder, too little room, a write that fails, timestamps MP4 cannot hold) it returns nothing, `why_not` says why and
// `source` is back at its start, for the caller to read the playlist itself; so also when reading the playlist fails,
// which the caller's own reading then meets and reports. Throws MediaCancelled when `interrupted` says so, MediaError
// naming the playlist when it cannot return to its start.
std::shared_ptr<const DownloadedCopy> copy_playlist(MediaSource& source, const MediaSource::InterruptCheck& interrupted,
                                                   const ScanProgress& progress, std::string& why_not);

} // namespace jarvis
