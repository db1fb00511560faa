#pragma once

#include "config/provider_config.hpp"

#include <jarvis/plugin_adapter.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <string>

namespace jarvis {

// Our decoding on the GPU's video engine (frames.hardware_decode) against the CPU, for probe's report: how much
// sooner the frames delivery has its frames on this machine, as the rate delivery=auto counts our decoding at
// (delivery_costs.client_decode_ms_per_megapixel). The cost model's default is the CPU's; a GPU that decodes several
// times faster makes frames the faster way for clips the CPU would leave to the server.

// The measurement: the two calibration videos (brief, longer), each decoded whole by the frames delivery's decoders
// at once, in software and on the device.
struct ClientDecodingTimes
{
    std::string hardware_decode; // the setting
    std::string device;          // the device opened; empty when none could be
    std::string unavailable;     // why none could be
    std::string codec;
    double megapixels = 0;       // of a frame
    bool users_video = false;    // probe --video's, else the generated test pattern
    int decoders = 2;
    std::array<int64_t, 2> pictures{};  // every decoder's together
    std::array<int64_t, 2> on_gpu{};    // of them, decoded on the GPU
    std::array<double, 2> cpu_s{std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
    std::array<double, 2> gpu_s{std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
};

// Decodes `videos` (brief, longer) with the device frames.hardware_decode names and in software, the lower of two
// tries of each. Throws MediaError naming a video that cannot be decoded, plugin::Error when cancelled.
ClientDecodingTimes measure_client_decoding(const std::string& hardware_decode, const std::array<std::string, 2>& videos,
                                            const std::string& codec, double megapixels, bool users_video, const plugin::Call& call);

// The report: the times, and the rate for delivery_costs.client_decode_ms_per_megapixel (the default CPU rate scaled
// by the GPU's speed against the CPU's) with advice; the rate null, and the advice saying why, where no device opened,
// the GPU did not decode every picture, or it was not faster.
nlohmann::json client_decoding_report(const ClientDecodingTimes& times, const DeliveryCostConfig& configured);

} // namespace jarvis
