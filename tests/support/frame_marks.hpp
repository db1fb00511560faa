#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace jarvis::test {

// Test videos whose every frame shows its own index: the picture's lower three quarters are 10 vertical stripes,
// white for a 1 bit (most significant on the left), and the top quarter is an orientation mark, white on the left
// half and black on the right. Both survive scaling and JPEG.
// `encoder_args` are the ffmpeg output options; `filters` run after the pattern (e.g. "transpose=2"); `fps` and
// `seconds` shape the source. Cached per name like make_video.
std::filesystem::path make_marked_video(const std::string& name, int width, int height, double fps, double seconds,
                                        const std::vector<std::string>& encoder_args, const std::string& filters = "");

// The luma of a JPEG (or any image FFmpeg decodes), row-major.
struct GrayImage
{
    int width = 0;
    int height = 0;
    std::vector<unsigned char> pixels;
    unsigned char at(double fx, double fy) const; // at a fraction of width and height
};
GrayImage decode_luma(const std::string& image_bytes);
// One plane of a 4:2:0 JPEG: 0 luma, 1 and 2 chroma (Cb, Cr).
GrayImage decode_plane(const std::string& image_bytes, int plane);

// The frame index a marked picture shows, and whether it is upright.
int read_frame_mark(const GrayImage& image);
bool is_upright(const GrayImage& image);

// Every frame's presentation time as ffprobe decodes it, in presentation order, relative to the first.
std::vector<double> true_frame_times(const std::filesystem::path& video);
// Which of those frames are keyframes.
std::vector<bool> keyframe_flags(const std::filesystem::path& video);

} // namespace jarvis::test
