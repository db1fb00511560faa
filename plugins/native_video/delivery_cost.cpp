#include "delivery_cost.hpp"

#include "media/hardware_decode.hpp"

#include <algorithm>

namespace jarvis {

DeliveryRates delivery_rates(const DeliveryCostConfig& configured)
{
    DeliveryRates r;
    r.server_decode_ms_per_megapixel = configured.server_decode_ms_per_megapixel.value_or(r.server_decode_ms_per_megapixel);
    r.client_decode_ms_per_megapixel = configured.client_decode_ms_per_megapixel.value_or(r.client_decode_ms_per_megapixel);
    r.upload_mb_per_s = configured.upload_mb_per_s.value_or(r.upload_mb_per_s);
    r.volume_read_mb_per_s = configured.volume_read_mb_per_s.value_or(r.volume_read_mb_per_s);
    r.stage_copy_mb_per_s = configured.stage_copy_mb_per_s.value_or(r.stage_copy_mb_per_s);
    return r;
}

DeliveryRates delivery_rates(const ProviderConfig& config, const MediaInfo& media)
{
    DeliveryRates r = delivery_rates(config.delivery_costs);
    if (!decoder_has_device_type(config.frames.hardware_decode, media.codec))
        r.client_decode_ms_per_megapixel = DeliveryRates{}.client_decode_ms_per_megapixel;
    return r;
}

VideoWork video_work(const MediaInfo& media, int64_t server_last_index, int64_t sampled, double sent_megapixels)
{
    VideoWork w;
    w.total_frames = expected_frame_count(media);
    w.server_decoded = std::max<int64_t>(0, server_last_index + 1);
    w.sampled = sampled;
    if (media.indexed_keyframes > 0 && w.total_frames > 0)
        w.keyframe_interval = std::max<int64_t>(1, w.total_frames / media.indexed_keyframes);
    w.megapixels = double(media.coded_width) * double(media.coded_height) / 1e6;
    w.decoder_cost = media.decoder_memory;
    w.sent_megapixels = sent_megapixels;
    w.file_bytes = std::max<int64_t>(0, media.size_bytes);
    return w;
}

int64_t frames_decoded_seeking(const VideoWork& work, double reference_share)
{
    // A decoder goes from a keyframe to the last target of its interval, decoding the targets and a share of the
    // other frames on the way (those a later one depends on). Targets further apart than an interval each lie on
    // average half an interval past their keyframe. Closer ones share the way: every interval is decoded up to its
    // last target, on average half a spacing before the interval's end. Never more than the video's frames.
    if (work.sampled <= 0 || work.total_frames <= 0)
        return 0;
    const double interval = double(work.keyframe_interval);
    const double spacing = double(work.total_frames) / double(work.sampled);
    const double on_the_way = spacing >= interval ? double(work.sampled) * interval / 2
                                                  : double(work.total_frames) / interval * (interval - spacing / 2) - double(work.sampled);
    const double decoded = std::min(double(work.total_frames), double(work.sampled) + std::max(0.0, on_the_way) * reference_share);
    return static_cast<int64_t>(decoded + 0.5);
}

int64_t expected_client_frames(const VideoWork& work, const DeliveryRates& rates)
{
    return frames_decoded_seeking(work, rates.client_reference_share);
}

double expected_client_decode_seconds(const VideoWork& work, const DeliveryRates& rates)
{
    const double intervals_with_targets =
        std::min(double(work.sampled), double(work.total_frames) / double(std::max<int64_t>(1, work.keyframe_interval)));
    const double fewer_cores = std::max(1.0, rates.client_parallel_intervals / std::max(1.0, intervals_with_targets));
    // With more cores both sides decode faster alike, unless the budget holds fewer of our decoders than cores.
    const auto could_run = static_cast<size_t>(std::max(1.0, std::min(double(std::max(1u, work.cores)), intervals_with_targets)));
    const size_t run = plan_decode_parallelism(work.cores, could_run, work.decoder_cost, work.decode_memory_bytes).workers;
    const double fewer_decoders = double(could_run) / double(run);
    return double(expected_client_frames(work, rates)) * work.megapixels * rates.client_decode_ms_per_megapixel / 1000 * fewer_cores *
           fewer_decoders;
}

double delivery_seconds(std::string_view delivery, const VideoWork& work, const DeliveryRates& rates)
{
    const double mb = double(work.file_bytes) / 1e6;
    const double server_decode = double(work.server_decoded) * work.megapixels * rates.server_decode_ms_per_megapixel / 1000;
    if (delivery == "file")
        return double(work.staged_copy_bytes) / 1e6 / rates.stage_copy_mb_per_s + mb / rates.volume_read_mb_per_s + server_decode;
    if (delivery == "http")
        return mb / rates.upload_mb_per_s + server_decode;
    if (delivery == "data")
        return mb * 4 / 3 / rates.upload_mb_per_s + server_decode;
    const double index = mb / rates.client_read_mb_per_s;
    const double client_decode = expected_client_decode_seconds(work, rates);
    const double jpeg = double(work.sampled) * work.sent_megapixels * rates.jpeg_ms_per_megapixel / 1000;
    // About 0.1 byte per pixel at the JPEG quality we send.
    const double upload = double(work.sampled) * work.sent_megapixels * 0.1 * 4 / 3 / rates.upload_mb_per_s;
    const double server_jpeg_decode = double(work.sampled) * work.sent_megapixels * rates.server_decode_ms_per_megapixel / 1000;
    return index + client_decode + jpeg + upload + server_jpeg_decode;
}

} // namespace jarvis
