#include "frame_marks.hpp"

#include "fixtures.hpp"
#include "process.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace jarvis::test {
namespace fs = std::filesystem;

fs::path make_marked_video(const std::string& name, int width, int height, double fps, double seconds,
                           const std::vector<std::string>& encoder_args, const std::string& filters)
{
    std::ostringstream graph;
    graph << "color=c=black:size=" << width << "x" << height << ":rate=" << fps << ":duration=" << seconds
          << ",format=yuv420p,geq=lum='if(lt(Y,H/4),if(lt(X,W/2),235,16),if(mod(floor(N/pow(2,9-floor(X*10/W))),2),235,16))'"
             ":cb=128:cr=128";
    if (!filters.empty())
        graph << "," << filters;
    std::vector<std::string> args = {"-f", "lavfi", "-i", graph.str()};
    args.insert(args.end(), encoder_args.begin(), encoder_args.end());
    return make_video(name, args);
}

unsigned char GrayImage::at(double fx, double fy) const
{
    const int x = std::clamp(static_cast<int>(fx * width), 0, width - 1);
    const int y = std::clamp(static_cast<int>(fy * height), 0, height - 1);
    return pixels[static_cast<size_t>(y) * width + x];
}

GrayImage decode_luma(const std::string& bytes) { return decode_plane(bytes, 0); }

GrayImage decode_plane(const std::string& bytes, int plane)
{
    // JPEG is what the tests read; the mjpeg decoder takes the whole file as one packet.
    const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_MJPEG);
    AVCodecContext* ctx = avcodec_alloc_context3(codec);
    avcodec_open2(ctx, codec, nullptr);
    AVPacket* packet = av_packet_alloc();
    av_new_packet(packet, static_cast<int>(bytes.size()));
    std::copy(bytes.begin(), bytes.end(), packet->data);
    AVFrame* frame = av_frame_alloc();
    GrayImage image;
    if (avcodec_send_packet(ctx, packet) >= 0 && avcodec_receive_frame(ctx, frame) >= 0) {
        // Chroma planes of the 4:2:0 JPEGs this module writes are half the size each way.
        image.width = plane == 0 ? frame->width : (frame->width + 1) / 2;
        image.height = plane == 0 ? frame->height : (frame->height + 1) / 2;
        image.pixels.resize(static_cast<size_t>(image.width) * image.height);
        for (int y = 0; y < image.height; ++y)
            std::copy_n(frame->data[plane] + static_cast<ptrdiff_t>(y) * frame->linesize[plane], image.width,
                        image.pixels.begin() + static_cast<ptrdiff_t>(y) * image.width);
    }
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&ctx);
    if (image.width == 0)
        throw std::runtime_error("not a decodable JPEG");
    return image;
}

int read_frame_mark(const GrayImage& image)
{
    int n = 0;
    for (int bit = 0; bit < 10; ++bit)
        n = n * 2 + (image.at((bit + 0.5) / 10.0, 0.625) > 128 ? 1 : 0);
    return n;
}

bool is_upright(const GrayImage& image) { return image.at(0.25, 0.12) > 180 && image.at(0.75, 0.12) < 70; }

namespace {

std::vector<std::string> ffprobe_frames(const fs::path& video, const std::string& entries)
{
    const auto r = run_process({"/usr/bin/ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=" + entries,
                                "-of", "csv=p=0", video.string()});
    if (r.exit_code != 0)
        throw std::runtime_error("ffprobe failed on " + video.string() + ": " + r.err);
    std::vector<std::string> lines;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            lines.push_back(line);
    return lines;
}

} // namespace

std::vector<double> true_frame_times(const fs::path& video)
{
    std::vector<double> times;
    for (const auto& line : ffprobe_frames(video, "best_effort_timestamp_time"))
        times.push_back(std::stod(line.substr(0, line.find(','))));
    std::sort(times.begin(), times.end());
    const double origin = times.empty() ? 0 : times.front();
    for (double& t : times)
        t -= origin;
    return times;
}

std::vector<bool> keyframe_flags(const fs::path& video)
{
    std::vector<std::pair<double, bool>> frames;
    for (const auto& line : ffprobe_frames(video, "best_effort_timestamp_time,key_frame")) {
        const size_t comma = line.find(',');
        frames.emplace_back(std::stod(line.substr(comma + 1)), line.substr(0, comma) == "1");
    }
    std::sort(frames.begin(), frames.end());
    std::vector<bool> flags;
    for (const auto& f : frames)
        flags.push_back(f.second);
    return flags;
}

} // namespace jarvis::test
