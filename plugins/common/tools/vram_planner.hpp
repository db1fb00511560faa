#pragma once

#include "config/loadout.hpp"
#include "config/provider_config.hpp"

#include <string>
#include <vector>

namespace jarvis {

// GPU memory for one vLLM server on one card, beside speech-to-text and text-to-speech:
//   peak = weights + KV cache for ctx + the vision encoder's work for the largest video the settings allow
// and whether peak + the reserve for STT/TTS (+ our decoders' surfaces, with frames.hardware_decode) fits the card. The weights and KV figures are measured (the Jarvis
// host's calibration of the QuantTrio AWQ model on an RTX 5090); the encoder term is an estimate from the vision
// tower's dimensions (README, "GPU memory").
struct VramPlan
{
    double total_gb = 0;
    double reserve_gb = 0;
    double weights_gb = 0;
    double kv_gb = 0;
    int64_t video_tokens = 0; // the largest video the settings allow, in merged visual tokens
    double encoder_gb = 0;
    // Our own decoders' surfaces on the card when frames.hardware_decode is not off: counted with the reserve.
    double hardware_decode_gb = 0;
    double peak_gb = 0;
    bool fits = false;
    double gpu_memory_utilization = 0; // what vLLM should be given (its share of the card)
    // When it does not fit: settings that would.
    int64_t suggested_max_frames = 0;
    int64_t suggested_max_pixels = 0;
    double suggested_fps = 0;
    std::vector<std::string> notes;
};

VramPlan plan_vram(const ProviderConfig& config, const Loadout& loadout);

// Encoder memory for a video of `tokens` merged visual tokens (Qwen3-VL: 4 ViT patches per token).
double encoder_gb_for(int64_t tokens);

} // namespace jarvis
