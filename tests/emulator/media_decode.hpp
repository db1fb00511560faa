#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace jarvis::emulator {

// What a loader's decoder reports of a video file before decoding it.
struct DecodedVideo
{
    // The count the loader samples from: OpenCV's CAP_PROP_FRAME_COUNT, which comes from the header (the container's
    // count, or its duration times the frame rate: negative for a recording its writer never finished), or
    // TorchCodec's, which comes from its scan. Not necessarily what the file holds.
    int64_t total_frames = 0;
    double fps = 0;  // the frame rate the loader reports
    int width = 0;   // displayed size (rotation applied, as OpenCV's auto-orientation does)
    int height = 0;
};

struct DecodedImage
{
    int width = 0;
    int height = 0;
};

// OpenCV's view of a video held in memory (CAP_PROP_FRAME_COUNT, CAP_PROP_FPS, the oriented size), from its header
// alone. Throws std::runtime_error with FFmpeg's reason.
DecodedVideo read_as_opencv(const std::string& bytes);

// What vLLM's OpenCV loop gets for `wanted` (sorted frame indices): grab() for every index up to the last wanted one,
// with OpenCV's own grab (a packet sent per attempt, a failed send or read ending that grab), the indices whose grab
// succeeded kept. A file cut short loses the wanted indices past its end; a damaged one can lose some in between.
struct OpenCvWalk
{
    std::vector<int64_t> read; // the wanted indices grabbed
    int64_t grabbed = 0;       // frames decoded on the way
};
OpenCvWalk walk_like_opencv(const std::string& bytes, const std::vector<int64_t>& wanted);

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
