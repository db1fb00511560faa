#pragma once

#include "media/media_source.hpp"

#include <cstdint>
#include <string>

namespace jarvis {

// The first `seconds` of `source`'s chosen stream copied into an MP4 of its own at `path`, from its first keyframe,
// packets as they are in decoding order: nothing is re-encoded, so any FFmpeg build makes it, and it keeps a user's
// own codec, size and keyframe interval (what a server's decoding of their videos costs). Every picture in it has
// what it predicts from. Returns the pictures written. Throws MediaError naming the source and the reason.
int64_t write_video_prefix(MediaSource& source, const std::string& path, double seconds);

} // namespace jarvis
