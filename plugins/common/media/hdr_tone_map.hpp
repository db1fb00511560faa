#pragma once

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

#include <array>
#include <vector>

namespace jarvis {

// Whether a decoded frame's transfer is HDR (PQ or HLG): what a phone records by default, and what an 8-bit picture
// shows flat and dim unless it is tone mapped.
bool is_hdr_transfer(AVColorTransferCharacteristic transfer);

// Maps HDR pictures to what an SDR screen shows (sRGB, BT.709 primaries), pixel by pixel: the transfer's signal to
// light (PQ's absolute nits; HLG's scene light through its 1000-nit display's OOTF), BT.2020 primaries to BT.709,
// reference white (203 nits, ITU-R BT.2408) to SDR white, highlights above it compressed by a smooth shoulder on
// luminance (hue kept), and sRGB's curve. Tables make a pixel a few lookups and a 3x3 product.
class HdrToneMapper
{
public:
    HdrToneMapper(AVColorTransferCharacteristic transfer, AVColorPrimaries primaries);

    // `hdr`: GBRP16 (the transfer's signal, full range); `sdr`: RGB24 of the same size.
    void map(const AVFrame& hdr, AVFrame& sdr) const;

    AVColorTransferCharacteristic transfer() const { return transfer_; }
    AVColorPrimaries primaries() const { return primaries_; }

private:
    AVColorTransferCharacteristic transfer_;
    AVColorPrimaries primaries_;
    std::vector<float> to_light_;              // signal (16-bit, in 4096 steps) -> light (HLG: scene light 0..1)
    std::vector<float> hlg_ootf_;              // HLG: scene luminance 0..1 -> the factor to display light, 1 = reference white
    std::array<float, 9> to_bt709_{};          // linear RGB of the source's primaries -> BT.709's
    std::vector<float> shoulder_gain_;         // luminance (0..8, in 1/1024 steps) -> the factor the shoulder scales RGB by
    std::vector<unsigned char> to_srgb_;       // light 0..1 (in to_srgb_.size() steps) -> 8-bit sRGB
};

} // namespace jarvis
