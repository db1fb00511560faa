#pragma once

#include <cstdint>
#include <string>
#include <vector>

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

// What TorchCodec's exact mode learns by demuxing alone, before it decodes: the frames in presentation order (their
// count is the video's) and the keyframe each decodes from.
struct ScannedVideo
{
    DecodedVideo video;                // total_frames: the stream's packets
    std::vector<int64_t> pts;          // presentation order
    std::vector<size_t> keyframe_of;   // position in `pts` of the keyframe decoding starts from
};
ScannedVideo scan_video(const std::string& bytes);

// Decodes what TorchCodec decodes for `indices` (positions in presentation order): from each one's keyframe up to it,
// continuing without a seek to a later index of the same interval. Returns the frames decoded.
int64_t decode_at_indices(const std::string& bytes, const ScannedVideo& scanned, const std::vector<int64_t>& indices);

// Decode one image (JPEG, PNG, ...) held in memory. Throws std::runtime_error with FFmpeg's reason.
DecodedImage decode_image(const std::string& bytes);

} // namespace jarvis::emulator
