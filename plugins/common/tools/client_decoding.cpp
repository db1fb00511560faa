#include "tools/client_decoding.hpp"

#include "media/decode_timing.hpp"
#include "media/hardware_decode.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace jarvis {

using nlohmann::json;

ClientDecodingTimes measure_client_decoding(const std::string& hardware_decode, const std::array<std::string, 2>& videos,
                                            const std::string& codec, double megapixels, bool users_video, const plugin::Call& call)
{
    ClientDecodingTimes t;
    t.hardware_decode = hardware_decode;
    t.codec = codec;
    t.megapixels = megapixels;
    t.users_video = users_video;
    const HardwareChoice choice = HardwareDevices::process_wide().choose(hardware_decode);
    if (!choice.device) {
        t.unavailable = choice.unavailable;
        return t;
    }
    t.device = choice.device->name;
    for (int attempt = 0; attempt < 2; ++attempt)
        for (size_t v = 0; v < videos.size(); ++v) {
            call.throw_if_cancelled();
            // Alternated, so that a machine busy for a moment slows both alike.
            const DecodeTiming cpu = time_decoding_every_frame(videos[v], nullptr, t.decoders);
            const DecodeTiming gpu = time_decoding_every_frame(videos[v], choice.device.get(), t.decoders);
            t.cpu_s[v] = std::min(t.cpu_s[v], cpu.seconds);
            t.gpu_s[v] = std::min(t.gpu_s[v], gpu.seconds);
            t.pictures[v] = gpu.pictures;
            t.on_gpu[v] = gpu.on_gpu;
        }
    return t;
}

json client_decoding_report(const ClientDecodingTimes& t, const DeliveryCostConfig& configured)
{
    json out = {{"hardware_decode", t.hardware_decode}, {"codec", t.codec}, {"decoders", t.decoders}};
    out["client_decode_ms_per_megapixel"] = nullptr;
    const std::string now = configured.client_decode_ms_per_megapixel
                                ? fmt::format("now {:.2g}", *configured.client_decode_ms_per_megapixel)
                                : fmt::format("now the default {:.2g}, the CPU's", default_client_decode_ms_per_megapixel);
    if (t.device.empty()) {
        out["device"] = nullptr;
        out["advice"] = fmt::format("frames.hardware_decode is \"{}\", but {}: our frames are decoded on the CPU, at the rate "
                                    "delivery=auto counts by default",
                                    t.hardware_decode, t.unavailable);
        return out;
    }
    out["device"] = t.device;
    out["pictures"] = t.pictures;
    out["pictures_on_gpu"] = t.on_gpu;
    out["cpu_s"] = t.cpu_s;
    out["gpu_s"] = t.gpu_s;
    const std::string measured_on = t.users_video ? fmt::format("the {} video given", t.codec) : fmt::format("the test pattern ({})", t.codec);
    const std::string other_video = t.users_video ? "" : "; give probe --video a video of yours (H.264, HEVC) to measure its codec";
    if (t.on_gpu[1] < t.pictures[1]) {
        out["advice"] = fmt::format("{} decoded {} of the {} pictures of {} on the GPU (the GPU, or this FFmpeg, has no decoding for "
                                    "its codec or profile): the rest decode on the CPU, at the rate delivery=auto counts by default{}",
                                    t.device, t.on_gpu[1], t.pictures[1], measured_on, other_video);
        return out;
    }
    const int64_t extra = t.pictures[1] - t.pictures[0];
    const double cpu_extra_s = t.cpu_s[1] - t.cpu_s[0];
    const double gpu_extra_s = t.gpu_s[1] - t.gpu_s[0];
    if (extra <= 0 || !(cpu_extra_s > 0) || !(gpu_extra_s > 0)) {
        out["advice"] = "the longer video was not slower to decode: too fast to measure this way (or the timings were disturbed); "
                        "keep delivery_costs.client_decode_ms_per_megapixel as it is";
        return out;
    }
    // The time per picture of the decoders together, as the cost model counts its rate (an interval per decoder at once).
    const double per_picture = 1000 / (double(extra) * t.megapixels);
    out["cpu_ms_per_megapixel"] = cpu_extra_s * per_picture;
    out["gpu_ms_per_megapixel"] = gpu_extra_s * per_picture;
    const double speedup = cpu_extra_s / gpu_extra_s;
    if (speedup <= 1) {
        out["advice"] = fmt::format("{} decoded {} no faster than the CPU ({:.2g}x its speed): keep frames.hardware_decode "
                                    "\"off\" and delivery_costs.client_decode_ms_per_megapixel as it is",
                                    t.device, measured_on, speedup);
        return out;
    }
    const double suggested = default_client_decode_ms_per_megapixel / speedup;
    out["client_decode_ms_per_megapixel"] = suggested;
    out["advice"] = fmt::format("{} decoded {} {:.2g}x as fast as the CPU: set delivery_costs.client_decode_ms_per_megapixel to "
                                "{:.2g} ({}) so that delivery=auto weighs that",
                                t.device, measured_on, speedup, suggested, now);
    return out;
}

} // namespace jarvis
