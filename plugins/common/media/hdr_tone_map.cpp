#include "media/hdr_tone_map.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace jarvis {
namespace {

constexpr double reference_white_nits = 203; // ITU-R BT.2408: where SDR's 100% sits in an HDR picture
constexpr int signal_steps = 4096;           // 12 bits of the 16-bit signal: more than any HDR video carries
constexpr int light_steps = 16384;
constexpr float max_shoulder_lum = 8;         // past 8x reference white the shoulder has reached SDR white
constexpr int shoulder_steps_per_unit = 1024;

// SMPTE ST 2084: signal 0..1 -> nits.
double pq_to_nits(double e)
{
    constexpr double m1 = 2610.0 / 16384, m2 = 2523.0 / 4096 * 128, c1 = 3424.0 / 4096, c2 = 2413.0 / 4096 * 32,
                     c3 = 2392.0 / 4096 * 32;
    const double p = std::pow(std::max(e, 0.0), 1 / m2);
    return 10000 * std::pow(std::max(p - c1, 0.0) / (c2 - c3 * p), 1 / m1);
}

// ARIB STD-B67 (HLG): signal 0..1 -> scene light 0..1.
double hlg_to_scene(double e)
{
    constexpr double a = 0.17883277, b = 0.28466892, c = 0.55991073;
    return e <= 0.5 ? e * e / 3 : (std::exp((e - c) / a) + b) / 12;
}

constexpr double hlg_peak_nits = 1000; // the display HLG is graded for; its OOTF's gamma is 1.2 there
constexpr double hlg_gamma = 1.2;

double srgb_encode(double v) { return v <= 0.0031308 ? 12.92 * v : 1.055 * std::pow(v, 1 / 2.4) - 0.055; }

// Luminance above the knee approaches SDR white without reaching it: highlights keep their order, mid-tones and
// shadows (below the knee) are not touched.
float shoulder(float y)
{
    constexpr float knee = 0.8f;
    return y <= knee ? y : knee + (1 - knee) * (1 - std::exp(-(y - knee) / (1 - knee)));
}

} // namespace

bool is_hdr_transfer(AVColorTransferCharacteristic transfer)
{
    return transfer == AVCOL_TRC_SMPTE2084 || transfer == AVCOL_TRC_ARIB_STD_B67;
}

HdrToneMapper::HdrToneMapper(AVColorTransferCharacteristic transfer, AVColorPrimaries primaries)
    : transfer_(transfer), primaries_(primaries), to_light_(signal_steps), to_srgb_(light_steps + 1)
{
    if (transfer == AVCOL_TRC_ARIB_STD_B67) {
        // HLG's OOTF: display light = peak * Ys^(gamma - 1) * scene light, here relative to reference white.
        hlg_ootf_.resize(light_steps + 1);
        for (int i = 0; i <= light_steps; ++i)
            hlg_ootf_[static_cast<size_t>(i)] =
                static_cast<float>(hlg_peak_nits / reference_white_nits * std::pow(double(i) / light_steps, hlg_gamma - 1));
    }
    for (int i = 0; i < signal_steps; ++i) {
        const double e = (i + 0.5) / signal_steps;
        // HLG's scene light per channel; its OOTF (which depends on the pixel's luminance) is applied per pixel.
        to_light_[static_cast<size_t>(i)] =
            static_cast<float>(transfer == AVCOL_TRC_SMPTE2084 ? pq_to_nits(e) / reference_white_nits : hlg_to_scene(e));
    }
    if (primaries == AVCOL_PRI_BT2020)
        to_bt709_ = {1.660491f, -0.587641f, -0.072850f, -0.124550f, 1.132900f, -0.008349f, -0.018151f, -0.100579f, 1.118730f};
    else
        to_bt709_ = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    shoulder_gain_.resize(static_cast<size_t>(max_shoulder_lum * shoulder_steps_per_unit) + 2);
    for (size_t i = 0; i < shoulder_gain_.size(); ++i) {
        const float lum = std::max(float(i), 0.5f) / shoulder_steps_per_unit;
        shoulder_gain_[i] = shoulder(lum) / lum;
    }
    for (int i = 0; i <= light_steps; ++i)
        to_srgb_[static_cast<size_t>(i)] = static_cast<unsigned char>(std::lround(255 * srgb_encode(double(i) / light_steps)));
}

void HdrToneMapper::map(const AVFrame& hdr, AVFrame& sdr) const
{
    const bool hlg = transfer_ == AVCOL_TRC_ARIB_STD_B67;
    // The source primaries' luminance weights (HLG's OOTF works in them), and BT.709's for the shoulder.
    const bool bt2020 = primaries_ == AVCOL_PRI_BT2020;
    const float src_y[3] = {bt2020 ? 0.2627f : 0.2126f, bt2020 ? 0.6780f : 0.7152f, bt2020 ? 0.0593f : 0.0722f};
    const float* light = to_light_.data();
    const float* m = to_bt709_.data();
    for (int y = 0; y < hdr.height; ++y) {
        // GBRP16: plane 0 is G, 1 is B, 2 is R.
        const auto* g_row = reinterpret_cast<const uint16_t*>(hdr.data[0] + static_cast<ptrdiff_t>(y) * hdr.linesize[0]);
        const auto* b_row = reinterpret_cast<const uint16_t*>(hdr.data[1] + static_cast<ptrdiff_t>(y) * hdr.linesize[1]);
        const auto* r_row = reinterpret_cast<const uint16_t*>(hdr.data[2] + static_cast<ptrdiff_t>(y) * hdr.linesize[2]);
        unsigned char* out = sdr.data[0] + static_cast<ptrdiff_t>(y) * sdr.linesize[0];
        for (int x = 0; x < hdr.width; ++x) {
            float r = light[r_row[x] >> 4], g = light[g_row[x] >> 4], b = light[b_row[x] >> 4];
            if (hlg) {
                const float ys = std::clamp(src_y[0] * r + src_y[1] * g + src_y[2] * b, 0.0f, 1.0f);
                const float ootf = hlg_ootf_[static_cast<size_t>(ys * light_steps + 0.5f)];
                r *= ootf, g *= ootf, b *= ootf;
            }
            const float r7 = m[0] * r + m[1] * g + m[2] * b;
            const float g7 = m[3] * r + m[4] * g + m[5] * b;
            const float b7 = m[6] * r + m[7] * g + m[8] * b;
            const float lum = std::max(0.2126f * r7 + 0.7152f * g7 + 0.0722f * b7, 0.0f);
            const float k = lum < max_shoulder_lum ? shoulder_gain_[static_cast<size_t>(lum * shoulder_steps_per_unit + 0.5f)] : 1 / lum;
            const auto encode = [&](float v) { return to_srgb_[static_cast<size_t>(std::clamp(v * k, 0.0f, 1.0f) * light_steps + 0.5f)]; };
            out[3 * x] = encode(r7);
            out[3 * x + 1] = encode(g7);
            out[3 * x + 2] = encode(b7);
        }
    }
}

} // namespace jarvis
