#pragma once

extern "C" {
#include <libavformat/avformat.h>
}

#include <string>
#include <utility>

namespace jarvis {

// Which of a file's streams is the video, and how a player shows it.

// The clockwise rotation a player applies: 0, 90, 180 or 270.
int rotation_of(const AVStream* stream);

// A stream's picture size as a player shows it: sample aspect ratio and rotation applied.
std::pair<int, int> displayed_size(AVFormatContext* fmt, const AVStream* st);

// The stream a player would show: a video stream that is not attached cover art, preferring FFmpeg's pick; -1 when
// there is none.
int choose_video_stream(AVFormatContext* fmt);

// "stream 1: h264 1920x1080", for messages that tell a file's video streams apart.
std::string describe_video_stream(const AVFormatContext* fmt, int index);

// The streams loaders that read a whole file take, described, where they are not `chosen`: the first video stream
// (OpenCV takes it whatever it is) and FFmpeg's pick (av_find_best_stream, TorchCodec's). Empty where it is `chosen`.
struct OtherLoadersStreams
{
    std::string first_video_stream;
    std::string best_video_stream;
};
OtherLoadersStreams other_loaders_streams(const AVFormatContext* fmt, int chosen);

// Only the chosen stream is read: the demuxer skips the others' bytes where it can (audio in an MP4 over HTTP), and
// an HLS master playlist's other variants are not fetched at all (each would cost as much network as the video).
void read_only_stream(AVFormatContext* fmt, int chosen);

// Whether the container's header (MP4, Matroska) already says what its video streams are, so that probing, which
// decodes frames just to look at them, can be left out. The pixel format is not asked for: headers rarely carry it.
bool header_describes_video(const AVFormatContext* fmt);

} // namespace jarvis
