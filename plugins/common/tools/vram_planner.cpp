#include "tools/vram_planner.hpp"

#include "media/decode_memory.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <new>
#include <thread>

extern "C" {
#include <libavcodec/codec_par.h>
#include <libavutil/pixfmt.h>
}

namespace jarvis {
namespace {

// Qwen3-VL's vision tower (the larger models' vision_config: depth 27, hidden 1152, MLP 4304) and the 30B-A3B
// language model's hidden size 2048, which the merged visual embeddings have (three DeepStack copies besides).
constexpr double vit_hidden = 1152;
constexpr double vit_mlp = 4304;
constexpr double llm_hidden = 2048;
constexpr double deepstack_copies = 3;
constexpr double bytes_per_value = 2; // bf16
constexpr double patches_per_token = 4; // 2x2 spatial merge
constexpr int64_t max_video_tokens = 12288; // the processor's cap: 25,165,824 pixels over the clip / 32^2 / 2 frames
constexpr double gb = 1024.0 * 1024 * 1024;
constexpr double margin_gb = 0.5; // CUDA graphs, sampler and fragmentation beyond the profiled peak

// A decoder on the GPU keeps its pictures there: FFmpeg 5.1 sizes the pool at 17 surfaces for H.264 and HEVC on
// Direct3D 11 (one, and 16 references) and the references + 2 (+3 with threads) on NVDEC, and we add 2 (the previous
// frame and a download). Planned for 4K 8-bit, a phone's recording (coded 3840x2176 for HEVC's 128-line alignment).
constexpr double surfaces_per_decoder = 20;
constexpr int planned_width = 3840;
constexpr int planned_height = 2176;

// Our surfaces on the card, in GB, for the most decoders the cores and frames.decode_memory_mb allow one request.
double hardware_decode_gb(const FramesConfig& frames, unsigned cores, size_t& decoders)
{
    AVCodecParameters* planned = avcodec_parameters_alloc();
    if (planned == nullptr)
        throw std::bad_alloc();
    planned->codec_id = AV_CODEC_ID_HEVC;
    planned->width = planned_width;
    planned->height = planned_height;
    planned->format = AV_PIX_FMT_YUV420P;
    const DecoderMemory cost = decoder_memory(*planned);
    avcodec_parameters_free(&planned);
    decoders = plan_decode_parallelism(cores, cores, cost, frames.decode_memory_bytes).workers;
    const double nv12_bytes = double(planned_width) * planned_height * 1.5;
    return double(decoders) * surfaces_per_decoder * nv12_bytes / gb;
}

} // namespace

double encoder_gb_for(int64_t tokens)
{
    const double patches = double(tokens) * patches_per_token;
    // The largest live activations of one ViT layer: the MLP's intermediate plus the residual stream, attention's
    // query/key/value/output (flash attention keeps no N^2 matrix); then the embeddings handed to the language model.
    const double layer = patches * (vit_mlp + 5 * vit_hidden) * bytes_per_value;
    const double embeddings = double(tokens) * llm_hidden * (1 + deepstack_copies) * bytes_per_value;
    return (layer + embeddings) / gb;
}

VramPlan plan_vram(const ProviderConfig& config, const Loadout& loadout)
{
    VramPlan p;
    const GpuConfig& gpu = config.gpu;
    p.total_gb = gpu.total_gb;
    p.reserve_gb = gpu.reserve_gb;
    const ModelMemory model = gpu.memory_for(loadout.model);
    p.weights_gb = model.base_vram_gb;
    const int64_t ctx = loadout.ctx.value_or(16384);
    p.kv_gb = double(ctx) / 10000.0 * model.kv_cache_gb_per_10k;
    if (!loadout.ctx)
        p.notes.push_back("no #ctx in the loadout: planned for 16384 tokens");

    // The largest video: the processor's cap, or less when max_frames and max_pixels bound it.
    const int64_t per_frame_tokens = loadout.max_pixels.value_or(768 * 1024) / 1024;
    p.video_tokens = std::min<int64_t>(max_video_tokens, (loadout.max_frames.value_or(768) + 1) / 2 * per_frame_tokens);
    p.encoder_gb = encoder_gb_for(p.video_tokens);
    p.peak_gb = p.weights_gb + p.kv_gb + p.encoder_gb + margin_gb;
    if (config.frames.hardware_decode != "off") {
        size_t decoders = 0;
        p.hardware_decode_gb = hardware_decode_gb(config.frames, std::max(1u, std::thread::hardware_concurrency()), decoders);
        p.notes.push_back(fmt::format("frames.hardware_decode is \"{}\": our decoders keep their pictures on the card, about {:.2f} GB "
                                      "for a 4K 8-bit video ({} decoder{} at once, by this machine's cores and frames.decode_memory_mb; "
                                      "1080p takes a quarter, 10-bit twice), counted beside the reserve; a CUDA context (cuda, auto "
                                      "on Linux) takes a few hundred MB more, not counted",
                                      config.frames.hardware_decode, p.hardware_decode_gb, decoders, decoders == 1 ? "" : "s"));
    }
    p.fits = p.peak_gb + p.reserve_gb + p.hardware_decode_gb <= p.total_gb;
    p.gpu_memory_utilization = std::min(0.95, std::ceil(p.peak_gb / p.total_gb * 100) / 100);

    if (!p.fits) {
        // The video budget left once weights, KV and the reserve are placed, in visual tokens.
        const double room = p.total_gb - p.reserve_gb - p.hardware_decode_gb - p.weights_gb - p.kv_gb - margin_gb;
        int64_t tokens = 0;
        while (tokens + 256 <= max_video_tokens && encoder_gb_for(tokens + 256) <= room)
            tokens += 256;
        if (tokens < 2 * 128) {
            p.notes.push_back(fmt::format("even a small video does not fit: weights {:.1f} GB + KV {:.1f} GB + reserve {:.1f} GB leave "
                                          "{:.1f} GB of {:.1f} GB; lower #ctx",
                                          p.weights_gb, p.kv_gb, p.reserve_gb, room, p.total_gb));
        } else {
            p.suggested_max_frames = std::min<int64_t>(loadout.max_frames.value_or(64), 2 * (tokens / 128));
            p.suggested_max_pixels = std::max<int64_t>(128, tokens / ((p.suggested_max_frames + 1) / 2)) * 1024;
            p.suggested_fps = std::min(2.0, double(p.suggested_max_frames) / 60.0);
        }
    }
    return p;
}

} // namespace jarvis
