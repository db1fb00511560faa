#pragma once

#include "config/provider_config.hpp"
#include "media/decode_memory.hpp"
#include "media/media_source.hpp"

#include <cstdint>
#include <string>

namespace jarvis {

// How fast the parts of a delivery go. The defaults were measured on a 2-core machine (Debian 12's FFmpeg, 10 minutes
// of 1080p30 x264 veryfast, 2 B-frames), in one run: vLLM's loader (OpenCV, frame threads) decoded its 18,000 frames
// at 2.0 ms per megapixel of a frame, and our exact decode (an interval per core) 9,258 pictures for 768 targets at
// 1.4, 3,035 for 60 at 1.5: for each target it decoded about half of the frames between its keyframe and it.
struct DeliveryRates
{
    double server_decode_ms_per_megapixel = reference_decode_ms_per_megapixel; // the server's video loader, per frame
    // Ours per picture decoded, on the same machine; with more cores both sides' decoding gets faster alike. On a GPU
    // (frames.hardware_decode) it is faster than that, by what probe measures.
    double client_decode_ms_per_megapixel = default_client_decode_ms_per_megapixel;
    double client_reference_share = 0.5;         // of the frames between a keyframe and the last target after it
    // The client rate is with this many keyframe intervals decoding at once (the measuring machine's cores). A clip
    // of fewer intervals decodes on fewer cores: frame threads barely speed up a chain of P-frames.
    double client_parallel_intervals = 2;
    double jpeg_ms_per_megapixel = 4.0;          // encoding a sampled frame at the size the model takes
    double upload_mb_per_s = default_upload_mb_per_s;           // this machine to the server (http, data, frames)
    double volume_read_mb_per_s = default_volume_read_mb_per_s; // the server reading the shared volume (file)
    double stage_copy_mb_per_s = default_stage_copy_mb_per_s;   // file: copying a video on another volume into it
    double client_read_mb_per_s = 500;           // our frame index's pass over the file (exact mode)
};

// The defaults with what the configuration's delivery_costs says instead.
DeliveryRates delivery_rates(const DeliveryCostConfig& configured);

// The same for `media`, except that our decoding goes at client_decode_ms_per_megapixel (what probe measured on the GPU)
// only where frames.hardware_decode is on and the video's decoder can use that kind of GPU: elsewhere at the CPU's.
DeliveryRates delivery_rates(const ProviderConfig& config, const MediaInfo& media);

// What a video costs to get to the server: the frames each side decodes and the bytes each delivery moves.
struct VideoWork
{
    int64_t total_frames = 0;         // the video's
    int64_t server_decoded = 0;       // vLLM's loader decodes every frame up to the last one it samples
    int64_t sampled = 0;              // frames our frames delivery sends
    int64_t keyframe_interval = 250;  // frames; x264's default when the container's index does not tell
    double megapixels = 0;            // a decoded frame (coded size)
    double sent_megapixels = 0;       // a sampled frame at the size the model takes
    int64_t file_bytes = 0;
    int64_t staged_copy_bytes = 0;    // file: copied into the shared volume first (the video is on another volume)
    // Our decoding: this machine's cores and the decoders frames.decode_memory_mb allows at once (decode_memory.hpp);
    // with the defaults nothing limits them.
    unsigned cores = 2;
    DecoderMemory decoder_cost;
    int64_t decode_memory_bytes = INT64_MAX;
};

// The work of `media` when the server samples at `server_fps` and our frames delivery takes `sampled` frames.
VideoWork video_work(const MediaInfo& media, int64_t server_last_index, int64_t sampled, double sent_megapixels);

// The frames a decoder that seeks to each sample's keyframe decodes, when it decodes `reference_share` of the frames
// between a keyframe and a sample (1: every one, as TorchCodec does).
int64_t frames_decoded_seeking(const VideoWork& work, double reference_share);

// The frames our exact decode is expected to decode for the frames delivery.
int64_t expected_client_frames(const VideoWork& work, const DeliveryRates& rates);

// Seconds our exact decode is expected to take for the frames delivery: at the measured rate, on fewer decoders where
// the clip has fewer intervals than the measuring machine's cores, or the memory budget runs fewer than this one's.
double expected_client_decode_seconds(const VideoWork& work, const DeliveryRates& rates);

// Seconds until the server holds the frames. Pointer deliveries: the server reads the file (file: from the volume,
// after our copy into it where the video is on another volume;
// http: from us over the network; data: inside the request) and decodes every frame up to its last sample. frames:
// we decode the needed part of each keyframe interval, encode JPEGs and upload them; the server decodes only those.
double delivery_seconds(std::string_view delivery, const VideoWork& work, const DeliveryRates& rates);

} // namespace jarvis
