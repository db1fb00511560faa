#pragma once

#include <cstdint>
#include <string>

namespace jarvis::emulator {

// What decoding a video file (from memory) found: every frame decoded, as OpenCV/PyAV would walk it.
struct DecodedVideo
{
    int64_t total_frames = 0; // frames that decoded
    double fps = 0;           // the stream's average frame rate
    int width = 0;            // displayed size (rotation applied, as OpenCV's auto-orientation does)
    int height = 0;
};

struct DecodedImage
{
    int width = 0;
    int height = 0;
};

// Decode every frame of a video held in memory. Throws std::runtime_error with FFmpeg's reason.
DecodedVideo decode_video(const std::string& bytes);

// Decode one image (JPEG, PNG, ...) held in memory. Throws std::runtime_error with FFmpeg's reason.
DecodedImage decode_image(const std::string& bytes);

} // namespace jarvis::emulator
