#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>

extern "C" {
#include <libavcodec/codec_par.h>
}

namespace jarvis {

// Each decoder holds its own reference and reordering pictures, so frame extraction's memory grows with the number of
// decoders at once, not with the video's length. Measured with Debian 12's FFmpeg (peak RSS, one decoder per worker):
// a decoder took about 8 frames plus 8 MiB (1080p H.264 and HEVC 34-36 MB, 4K H.264 95 MB, 4K HEVC 10-bit 191 MB), a
// frame thread added to one about 2 frames (1080p: 6.5 MB). One worker per core would take 1.2 GB for a 4K HEVC
// 10-bit clip on 6 cores; a budget keeps it bounded on any machine.
struct DecoderMemory
{
    int64_t per_decoder = 0;      // a decoder on one thread
    int64_t per_extra_thread = 0; // each frame thread beyond the first
};

// What decoding `codec` takes: its coded size and pixel format, or where the format is not known (MP4 and Matroska are
// not probed) the depth and chroma its configuration record tells (H.264, HEVC, AV1), else 4:2:0 of 8 bits (10 for HDR).
DecoderMemory decoder_memory(const AVCodecParameters& codec);

struct DecodeParallelism
{
    size_t workers = 1;     // decoders at once, each on its own keyframe intervals
    int threads = 1;        // frame threads per decoder
    int64_t bytes = 0;      // what they are expected to take
    bool limited = false;   // fewer workers or threads than the cores would have had, to stay within the budget
};

// Workers up to `wanted` (one per core, at most one per interval), then the cores left over as frame threads, as many
// as `available_bytes` holds; one worker on one thread whatever the budget, so that every request makes progress.
DecodeParallelism plan_decode_parallelism(unsigned cores, size_t wanted, const DecoderMemory& cost, int64_t available_bytes);

// The decoding memory of every extraction running in this plugin: a request takes what its budget leaves after the
// others' reservations, so that concurrent requests share one budget instead of each taking it whole.
class DecodeMemoryLedger
{
public:
    class Reservation
    {
    public:
        Reservation(DecodeMemoryLedger& ledger, DecodeParallelism parallelism);
        ~Reservation();
        Reservation(const Reservation&) = delete;
        Reservation& operator=(const Reservation&) = delete;
        const DecodeParallelism& parallelism() const { return parallelism_; }

    private:
        DecodeMemoryLedger& ledger_;
        DecodeParallelism parallelism_;
    };

    static DecodeMemoryLedger& process_wide();

    // Plans within `budget_bytes` less what the other reservations hold, and holds what it planned until released.
    Reservation reserve(unsigned cores, size_t wanted, const DecoderMemory& cost, int64_t budget_bytes);
    int64_t reserved_bytes() const;

private:
    mutable std::mutex mutex_;
    int64_t reserved_ = 0;
};

} // namespace jarvis
