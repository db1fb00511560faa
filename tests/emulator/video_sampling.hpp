#pragma once

#include "media_decode.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace jarvis::emulator {

// Which of vLLM's video loaders samples files: the newest per-model "qwen3_vl" (2 fps, 4..768 frames), or the older
// "opencv" loader that took 32 uniform frames for every model (reference §3.1).
enum class VideoLoader { qwen3_vl, opencv };

// The frames that reach Qwen3-VL's processor and the metadata its timestamps come from.
struct SampledVideo
{
    std::vector<int64_t> indices; // frame indices in the original video
    double fps = 0;               // metadata fps: timestamps are index / fps
    int64_t total_frames = 0;
};

// What vLLM's loader raises inside load_bytes while sampling (numpy's and Python's own messages), which vLLM reports as
// a failure to decode the video.
struct LoaderFailure : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

// An integer of the kwargs (num_frames), `fallback` when it is absent. Throws ApiError naming the key when it is not an
// integer: Python's slicing refuses floats and strings, and a float's conversion would be undefined out of range.
int64_t integer_or(const nlohmann::json& j, const char* key, int64_t fallback);

// The frame indices vLLM's loader samples, with the merged media_io_kwargs["video"], from the count and rate its
// decoder reports (sorted, distinct). Throws LoaderFailure where the loader fails.
std::vector<int64_t> loader_indices(const DecodedVideo& video, const nlohmann::json& video_kwargs, VideoLoader loader);

// The loader's result, the indices it could read (`read`: those of loader_indices its decoder got), as the processor
// samples it further (mm_processor_kwargs). Throws ApiError where vLLM refuses.
SampledVideo loaded_video(const DecodedVideo& video, std::vector<int64_t> read, const nlohmann::json& processor_kwargs);

// A data:video/jpeg frame list of `frames` frames (already truncated to num_frames) with its metadata kwargs.
SampledVideo sample_frame_list(int64_t frames, const nlohmann::json& video_kwargs, const nlohmann::json& processor_kwargs);

// The "<t seconds>" values vLLM prints, one per 2-frame group.
std::vector<double> group_timestamps(const SampledVideo& video);

// Per-frame times (index / fps), for the token estimate.
std::vector<double> frame_times(const SampledVideo& video);

// media_io_kwargs["video"] of the server merged with the request's, per key, with VideoMediaIO's trap: a request that
// sets only one of fps and num_frames drops the server's value of the other.
nlohmann::json merge_video_kwargs(const nlohmann::json& server, const nlohmann::json& request);

} // namespace jarvis::emulator
