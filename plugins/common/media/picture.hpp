#pragma once

#include "media/av_handles.hpp"
#include "media/hdr_tone_map.hpp"

#include <optional>
#include <string>

namespace jarvis {

// Turns decoded frames into what a player shows, at the size the model gets, without leaving YUV: swscale goes from
// the decoder's format (8- or 10-bit, any matrix and range) straight to full-range BT.601 YUV 4:2:0 (what JPEG
// means), interlaced frames are scaled from one field (no combing), and rotation is applied to the small result.
// HDR frames (PQ, HLG) are the exception: tone mapping needs light, so they are scaled to 16-bit RGB, mapped to SDR RGB
// and then converted to that YUV, all at the small size.
// One converter per thread; it caches its swscale context across frames of one video.
class PictureConverter
{
public:
    // `width` x `height` is the size wanted as displayed (after rotation); `rotation_deg` is clockwise;
    // `field_order` is the stream's (decoders often leave the frames' own top_field_first unset).
    PictureConverter(int width, int height, int rotation_deg, AVFieldOrder field_order = AV_FIELD_UNKNOWN);

    // Returns a YUVJ420P frame of the displayed size. Throws MediaError on a conversion failure.
    av::Frame convert(const AVFrame& decoded);

private:
    SwsContext* scaler_from(const AVFrame& decoded, int source_h, int width, int height, AVPixelFormat out);
    av::Frame tone_mapped(const AVFrame& decoded, const AVFrame& signal);

    int width_;
    int height_;
    int rotation_;
    AVFieldOrder field_order_;
    av::Sws sws_;
    // source width, height, format, colour space, range and the format out, that the context was made for
    int sws_key_[6] = {-1, -1, -1, -1, -1, -1};
    // HDR: the mapping, its RGB out (reused from frame to frame) and that RGB to JPEG's YUV, at the small size
    std::optional<HdrToneMapper> tone_map_;
    av::Frame sdr_;
    av::Sws rgb_to_yuv_;
};

// Encodes YUVJ420P frames as baseline JPEG with FFmpeg's mjpeg encoder at a fixed quality (2 best .. 31).
class JpegEncoder
{
public:
    explicit JpegEncoder(int quality) : quality_(quality) {}
    std::string encode(const AVFrame& picture);

private:
    int quality_;
    av::CodecContext codec_;
    int width_ = 0;
    int height_ = 0;
};

} // namespace jarvis
