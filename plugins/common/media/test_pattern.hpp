#pragma once

#include <cstdint>
#include <string>

namespace jarvis {

// Writes a short MP4 (MPEG-4 Part 2, which every FFmpeg build can encode) whose frames carry visible markers: their
// index as ten black and white stripes and a box that moves with time. For probing a server without a user's video.
// Throws MediaError naming the file and the reason.
void write_test_pattern_video(const std::string& path, int seconds, int fps = 10, int width = 320, int height = 240);

// Appends to an MP4 a top-level 'free' box of `bytes` zeros, which every reader skips: a file as many bytes bigger
// with the same frames, for measuring what a server pays per byte it is given. Throws MediaError naming the file.
void pad_mp4(const std::string& path, uint32_t bytes);

} // namespace jarvis
