#pragma once

#include "config/provider_config.hpp"
#include "media/media_source.hpp"

#include <cstdint>
#include <string>

namespace jarvis {

// How fast the parts of a delivery go. The defaults were measured on a 2-core machine (Debian 12's FFmpeg, 10 minutes
// of 1080p30 x264 veryfast): decoding costs about 2.2 ms per megapixel of a frame wherever it runs, and our exact
// decode, which skips what no target depends on, decodes about 40% of the frames between a keyframe and a target.
struct DeliveryRates
{
    double server_decode_ms_per_megapixel = reference_decode_ms_per_megapixel; // the server's video loader, per frame
    double client_decode_ms_per_megapixel = reference_decode_ms_per_megapixel; // ours, per frame decoded
    double client_reference_share = 0.4;         // of the frames before a target in its keyframe interval
    double jpeg_ms_per_megapixel = 4.0;          // encoding a sampled frame at the size the model takes
    double upload_mb_per_s = default_upload_mb_per_s;           // this machine to the server (http, data, frames)
    double volume_read_mb_per_s = default_volume_read_mb_per_s; // the server reading the shared volume (file)
    double client_read_mb_per_s = 500;           // our frame index's pass over the file (exact mode)
};

// The defaults with what the configuration's delivery_costs says instead.
DeliveryRates delivery_rates(const DeliveryCostConfig& configured);

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
};

// The work of `media` when the server samples at `server_fps` and our frames delivery takes `sampled` frames.
VideoWork video_work(const MediaInfo& media, int64_t server_last_index, int64_t sampled, double sent_megapixels);

// The frames a decoder that seeks to each sample's keyframe decodes, when it decodes `reference_share` of the frames
// between a keyframe and a sample (1: every one, as TorchCodec does).
int64_t frames_decoded_seeking(const VideoWork& work, double reference_share);

// The frames our exact decode is expected to decode for the frames delivery.
int64_t expected_client_frames(const VideoWork& work, const DeliveryRates& rates);

// Seconds until the server holds the frames. Pointer deliveries: the server reads the file (file: from the volume;
// http: from us over the network; data: inside the request) and decodes every frame up to its last sample. frames:
// we decode the needed part of each keyframe interval, encode JPEGs and upload them; the server decodes only those.
double delivery_seconds(std::string_view delivery, const VideoWork& work, const DeliveryRates& rates);

} // namespace jarvis
