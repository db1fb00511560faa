#include "media/picture.hpp"

#include "media/ffmpeg_compat.hpp"
#include "media/media_error.hpp"

extern "C" {
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
}

#include <cstring>

namespace jarvis {
namespace {

av::Frame allocate_frame(AVPixelFormat format, int width, int height)
{
    av::Frame f(av_frame_alloc());
    if (!f)
        throw std::bad_alloc();
    f->format = format;
    f->width = width;
    f->height = height;
    if (av_frame_get_buffer(f.get(), 32) < 0)
        throw std::bad_alloc();
    return f;
}

av::Frame allocate_yuvj420(int width, int height)
{
    av::Frame f = allocate_frame(AV_PIX_FMT_YUVJ420P, width, height);
    f->color_range = AVCOL_RANGE_JPEG;
    f->colorspace = AVCOL_SPC_BT470BG;
    return f;
}

int swscale_colorspace(const AVFrame& f)
{
    switch (f.colorspace) {
    case AVCOL_SPC_BT709: return SWS_CS_ITU709;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL: return SWS_CS_BT2020;
    case AVCOL_SPC_SMPTE170M:
    case AVCOL_SPC_BT470BG: return SWS_CS_ITU601;
    case AVCOL_SPC_FCC: return SWS_CS_FCC;
    case AVCOL_SPC_SMPTE240M: return SWS_CS_SMPTE240M;
    default: return f.height >= 720 ? SWS_CS_ITU709 : SWS_CS_ITU601; // unspecified: what players assume
    }
}

bool full_range_source(const AVFrame& f)
{
    if (f.color_range == AVCOL_RANGE_JPEG)
        return true;
    const auto fmt = static_cast<AVPixelFormat>(f.format);
    return fmt == AV_PIX_FMT_YUVJ420P || fmt == AV_PIX_FMT_YUVJ422P || fmt == AV_PIX_FMT_YUVJ444P;
}

// Rotates one plane of w x h bytes clockwise by 90, 180 or 270 degrees.
void rotate_plane(const uint8_t* src, int src_stride, int w, int h, uint8_t* dst, int dst_stride, int degrees)
{
    for (int y = 0; y < h; ++y) {
        const uint8_t* row = src + static_cast<ptrdiff_t>(y) * src_stride;
        for (int x = 0; x < w; ++x) {
            int dx = x, dy = y;
            if (degrees == 90) {
                dx = h - 1 - y;
                dy = x;
            } else if (degrees == 180) {
                dx = w - 1 - x;
                dy = h - 1 - y;
            } else if (degrees == 270) {
                dx = y;
                dy = w - 1 - x;
            }
            dst[static_cast<ptrdiff_t>(dy) * dst_stride + dx] = row[x];
        }
    }
}

} // namespace

PictureConverter::PictureConverter(int width, int height, int rotation_deg, AVFieldOrder field_order)
    : width_(width), height_(height), rotation_(rotation_deg), field_order_(field_order)
{
}

av::Frame PictureConverter::convert(const AVFrame& decoded)
{
    const bool sideways = rotation_ == 90 || rotation_ == 270;
    const int scaled_w = sideways ? height_ : width_;
    const int scaled_h = sideways ? width_ : height_;
    const bool interlaced = av::is_interlaced(decoded);
    const int source_h = interlaced ? decoded.height / 2 : decoded.height;

    // An interlaced frame is scaled from its first field alone: every other line, doubled strides.
    const uint8_t* src[4] = {};
    int strides[4] = {};
    bool top_first = av::top_field_first(decoded);
    if (field_order_ == AV_FIELD_TT || field_order_ == AV_FIELD_TB)
        top_first = true;
    else if (field_order_ == AV_FIELD_BB || field_order_ == AV_FIELD_BT)
        top_first = false;
    const int field = interlaced && !top_first ? 1 : 0;
    for (int i = 0; i < 4 && decoded.data[i] != nullptr; ++i) {
        src[i] = decoded.data[i] + (interlaced ? field * decoded.linesize[i] : 0);
        strides[i] = interlaced ? decoded.linesize[i] * 2 : decoded.linesize[i];
    }
    // Tone mapping needs light: an HDR picture is scaled to 16-bit RGB first, still the transfer's signal.
    const bool hdr = is_hdr_transfer(decoded.color_trc);
    const AVPixelFormat scaled_format = hdr ? AV_PIX_FMT_GBRP16 : AV_PIX_FMT_YUVJ420P;
    av::Frame scaled = hdr ? allocate_frame(scaled_format, scaled_w, scaled_h) : allocate_yuvj420(scaled_w, scaled_h);
    if (sws_scale(scaler_from(decoded, source_h, scaled_w, scaled_h, scaled_format), src, strides, 0, source_h, scaled->data,
                  scaled->linesize) <= 0)
        throw MediaError("cannot scale a decoded picture");
    if (hdr)
        scaled = tone_mapped(decoded, *scaled);
    if (rotation_ == 0)
        return scaled;

    av::Frame rotated = allocate_yuvj420(width_, height_);
    for (int plane = 0; plane < 3; ++plane) {
        const int w = plane == 0 ? scaled_w : scaled_w / 2;
        const int h = plane == 0 ? scaled_h : scaled_h / 2;
        rotate_plane(scaled->data[plane], scaled->linesize[plane], w, h, rotated->data[plane], rotated->linesize[plane], rotation_);
    }
    return rotated;
}

// The swscale context from decoded pictures to `out` at `width` x `height`, made anew when the source changes.
SwsContext* PictureConverter::scaler_from(const AVFrame& decoded, int source_h, int width, int height, AVPixelFormat out)
{
    const int key[6] = {decoded.width, source_h, decoded.format, swscale_colorspace(decoded), full_range_source(decoded) ? 1 : 0, out};
    if (!sws_ || std::memcmp(key, sws_key_, sizeof key) != 0) {
        sws_.reset(sws_getContext(decoded.width, source_h, static_cast<AVPixelFormat>(decoded.format), width, height, out, SWS_BICUBIC,
                                  nullptr, nullptr, nullptr));
        if (!sws_)
            throw MediaError(std::string("cannot convert pictures from ") + av_get_pix_fmt_name(static_cast<AVPixelFormat>(decoded.format)));
        // Source matrix and range from the frame; destination JPEG's: BT.601, full range (RGB out ignores the table).
        sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(key[3]), key[4], sws_getCoefficients(SWS_CS_ITU601), 1, 0,
                                 1 << 16, 1 << 16);
        std::memcpy(sws_key_, key, sizeof key);
    }
    return sws_.get();
}

// An HDR picture's 16-bit RGB signal tone mapped to 8-bit sRGB, then converted to JPEG's YUV.
av::Frame PictureConverter::tone_mapped(const AVFrame& decoded, const AVFrame& signal)
{
    if (!tone_map_ || tone_map_->transfer() != decoded.color_trc || tone_map_->primaries() != decoded.color_primaries)
        tone_map_.emplace(decoded.color_trc, decoded.color_primaries);
    if (!sdr_ || sdr_->width != signal.width || sdr_->height != signal.height) {
        sdr_ = allocate_frame(AV_PIX_FMT_RGB24, signal.width, signal.height);
        rgb_to_yuv_.reset(sws_getContext(signal.width, signal.height, AV_PIX_FMT_RGB24, signal.width, signal.height, AV_PIX_FMT_YUVJ420P,
                                         SWS_BICUBIC, nullptr, nullptr, nullptr));
        if (!rgb_to_yuv_)
            throw MediaError("cannot convert tone-mapped pictures to JPEG's colours");
        sws_setColorspaceDetails(rgb_to_yuv_.get(), sws_getCoefficients(SWS_CS_ITU601), 1, sws_getCoefficients(SWS_CS_ITU601), 1, 0,
                                 1 << 16, 1 << 16);
    }
    tone_map_->map(signal, *sdr_);
    av::Frame scaled = allocate_yuvj420(signal.width, signal.height);
    if (sws_scale(rgb_to_yuv_.get(), sdr_->data, sdr_->linesize, 0, signal.height, scaled->data, scaled->linesize) <= 0)
        throw MediaError("cannot convert a tone-mapped picture");
    return scaled;
}

std::string JpegEncoder::encode(const AVFrame& picture)
{
    if (!codec_ || width_ != picture.width || height_ != picture.height) {
        const AVCodec* mjpeg = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
        if (mjpeg == nullptr)
            throw MediaError("this FFmpeg has no JPEG encoder");
        codec_.reset(avcodec_alloc_context3(mjpeg));
        if (!codec_)
            throw std::bad_alloc();
        codec_->width = picture.width;
        codec_->height = picture.height;
        codec_->pix_fmt = AV_PIX_FMT_YUVJ420P;
        codec_->color_range = AVCOL_RANGE_JPEG;
        codec_->time_base = {1, 25};
        codec_->flags |= AV_CODEC_FLAG_QSCALE;
        codec_->global_quality = quality_ * FF_QP2LAMBDA;
        if (const int rc = avcodec_open2(codec_.get(), mjpeg, nullptr); rc < 0)
            throw MediaError("cannot open the JPEG encoder: " + av::error_string(rc));
        width_ = picture.width;
        height_ = picture.height;
    }
    av::Frame frame(av_frame_clone(&picture));
    if (!frame)
        throw std::bad_alloc();
    frame->quality = codec_->global_quality;
    frame->pict_type = AV_PICTURE_TYPE_I;
    frame->pts = AV_NOPTS_VALUE;
    int rc = avcodec_send_frame(codec_.get(), frame.get());
    av::Packet packet(av_packet_alloc());
    if (rc >= 0)
        rc = avcodec_receive_packet(codec_.get(), packet.get());
    if (rc < 0)
        throw MediaError("JPEG encoding failed: " + av::error_string(rc));
    return std::string(reinterpret_cast<const char*>(packet->data), static_cast<size_t>(packet->size));
}

} // namespace jarvis
