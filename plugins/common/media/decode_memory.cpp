#include "media/decode_memory.hpp"

#include "media/hdr_tone_map.hpp"

#include <algorithm>

extern "C" {
#include <libavutil/imgutils.h>
#include <libavutil/pixfmt.h>
}

namespace jarvis {
namespace {

constexpr int64_t mebibyte = 1024 * 1024;

// A frame's layout as its decoder will output it: samples of one or two bytes, and chroma planes per luma plane.
struct Layout
{
    int bytes_per_sample = 1;
    double planes = 1.5; // 4:2:0
};

Layout with_chroma(int bytes_per_sample, int chroma_format_idc)
{
    static constexpr double planes_for[] = {1.0, 1.5, 2.0, 3.0}; // 4:0:0, 4:2:0, 4:2:2, 4:4:4
    return {bytes_per_sample, planes_for[chroma_format_idc & 3]};
}

// MP4 and Matroska are opened without probing (no pixel format): their codec configuration records tell the depth.
Layout layout_from_configuration(const AVCodecParameters& codec)
{
    const uint8_t* x = codec.extradata;
    const int size = codec.extradata_size;
    switch (codec.codec_id) {
    case AV_CODEC_ID_HEVC: // hvcC: chroma_format_idc in byte 16, bit depth - 8 in byte 17
        if (size >= 23 && x[0] == 1)
            return with_chroma((x[17] & 7) > 0 ? 2 : 1, x[16] & 3);
        break;
    case AV_CODEC_ID_AV1: // av1C: high_bitdepth, twelve_bit, monochrome, subsampling x and y in byte 2
        if (size >= 4 && x[0] == 0x81) {
            const bool deep = (x[2] & 0x40) != 0;
            const int chroma = (x[2] & 0x10) ? 0 : (x[2] & 0x08) ? ((x[2] & 0x04) ? 1 : 2) : 3;
            return with_chroma(deep ? 2 : 1, chroma);
        }
        break;
    case AV_CODEC_ID_H264: // avcC: profile_idc in byte 1; High 10, 4:2:2 and 4:4:4 profiles may take two bytes a sample
        if (size >= 7 && x[0] == 1) {
            const int profile = x[1];
            if (profile == 110)
                return with_chroma(2, 1);
            if (profile == 122)
                return with_chroma(2, 2);
            if (profile == 244 || profile == 44)
                return with_chroma(2, 3);
            return with_chroma(1, 1);
        }
        break;
    default:
        break;
    }
    // Nothing says (VP9, whose record FFmpeg does not keep): HDR is 10-bit in practice.
    return with_chroma(is_hdr_transfer(codec.color_trc) ? 2 : 1, 1);
}

int64_t frame_bytes(const AVCodecParameters& codec)
{
    const int width = std::max(codec.width, 16);
    const int height = std::max(codec.height, 16);
    const auto format = static_cast<AVPixelFormat>(codec.format);
    const int known = format == AV_PIX_FMT_NONE ? -1 : av_image_get_buffer_size(format, width, height, 1);
    if (known > 0)
        return known;
    const Layout layout = layout_from_configuration(codec);
    return static_cast<int64_t>(static_cast<double>(width) * height * layout.planes * layout.bytes_per_sample);
}

int64_t planned_bytes(size_t workers, int threads, const DecoderMemory& cost)
{
    return static_cast<int64_t>(workers) * (cost.per_decoder + static_cast<int64_t>(threads - 1) * cost.per_extra_thread);
}

} // namespace

DecoderMemory decoder_memory(const AVCodecParameters& codec)
{
    const int64_t frame = frame_bytes(codec);
    return {8 * frame + 8 * mebibyte, 2 * frame + mebibyte};
}

DecodeParallelism plan_decode_parallelism(unsigned cores, size_t wanted, const DecoderMemory& cost, int64_t available_bytes)
{
    cores = std::max(1u, cores);
    wanted = std::max<size_t>(1, wanted);
    DecodeParallelism p;
    const int64_t affordable = cost.per_decoder > 0 ? std::max<int64_t>(0, available_bytes) / cost.per_decoder : INT64_MAX;
    p.workers = std::max<size_t>(1, std::min<size_t>(wanted, static_cast<size_t>(std::min<int64_t>(affordable, INT32_MAX))));
    const int threads_for_cores = static_cast<int>(std::max<size_t>(1, cores / p.workers));
    p.threads = threads_for_cores;
    while (p.threads > 1 && planned_bytes(p.workers, p.threads, cost) > available_bytes)
        --p.threads;
    p.limited = p.workers < wanted || p.threads < threads_for_cores;
    p.bytes = planned_bytes(p.workers, p.threads, cost);
    return p;
}

DecodeMemoryLedger::Reservation::Reservation(DecodeMemoryLedger& ledger, DecodeParallelism parallelism)
    : ledger_(ledger), parallelism_(parallelism)
{
}

DecodeMemoryLedger::Reservation::~Reservation()
{
    std::lock_guard lock(ledger_.mutex_);
    ledger_.reserved_ -= parallelism_.bytes;
}

DecodeMemoryLedger& DecodeMemoryLedger::process_wide()
{
    static DecodeMemoryLedger ledger;
    return ledger;
}

DecodeMemoryLedger::Reservation DecodeMemoryLedger::reserve(unsigned cores, size_t wanted, const DecoderMemory& cost, int64_t budget_bytes)
{
    std::lock_guard lock(mutex_);
    const DecodeParallelism p = plan_decode_parallelism(cores, wanted, cost, budget_bytes - reserved_);
    reserved_ += p.bytes;
    return Reservation(*this, p);
}

int64_t DecodeMemoryLedger::reserved_bytes() const
{
    std::lock_guard lock(mutex_);
    return reserved_;
}

} // namespace jarvis
