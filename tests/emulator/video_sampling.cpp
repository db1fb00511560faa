#include "video_sampling.hpp"

#include "api_error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace jarvis::emulator {
namespace {

using nlohmann::json;

std::vector<int64_t> linspace_round(int64_t first, int64_t last, int64_t n)
{
    std::vector<int64_t> out;
    for (int64_t i = 0; i < n; ++i)
        out.push_back(static_cast<int64_t>(std::nearbyint(n == 1 ? double(first) : first + double(i) * double(last - first) / double(n - 1))));
    return out;
}

double number_or(const json& j, const char* key, double fallback)
{
    return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : fallback;
}

// The HF Qwen3VLVideoProcessor's own sampling, applied when do_sample_frames is on.
SampledVideo processor_step(SampledVideo loaded, const json& processor_kwargs, bool metadata_do_sample)
{
    bool do_sample = metadata_do_sample;
    if (processor_kwargs.is_object() && processor_kwargs.contains("do_sample_frames"))
        do_sample = processor_kwargs["do_sample_frames"].get<bool>();
    if (!do_sample)
        return loaded;
    int64_t n = 0;
    if (processor_kwargs.is_object() && processor_kwargs.contains("num_frames")) {
        n = integer_or(processor_kwargs, "num_frames", 0);
    } else {
        const double fps = number_or(processor_kwargs, "fps", 2.0);
        n = static_cast<int64_t>(double(loaded.total_frames) / loaded.fps * fps);
    }
    n = std::min<int64_t>({std::max<int64_t>(n, 4), 768, loaded.total_frames});
    // The processor picks among the frames it was given; map its choice back to original indices.
    std::vector<int64_t> picked;
    for (int64_t i : linspace_round(0, static_cast<int64_t>(loaded.indices.size()) - 1, std::min<int64_t>(n, loaded.indices.size())))
        picked.push_back(loaded.indices[static_cast<size_t>(i)]);
    loaded.indices = std::move(picked);
    return loaded;
}

// Python's int() of a float, kept inside int64 (a damaged header's count can make any product).
int64_t to_int(double x)
{
    constexpr double limit = 9.0e18;
    return x != x ? 0 : static_cast<int64_t>(std::clamp(x, -limit, limit));
}

double metadata_fps(const DecodedVideo& video)
{
    return video.fps > 0 ? video.fps : 24.0; // HF's fallback when metadata has no fps
}

} // namespace

int64_t integer_or(const json& j, const char* key, int64_t fallback)
{
    if (!j.is_object() || !j.contains(key))
        return fallback;
    const json& value = j[key];
    if (!value.is_number_integer())
        throw ApiError::bad_request(fmt::format("{} must be an integer", key));
    if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(INT64_MAX))
        return INT64_MAX; // Python's int has no limit: beyond any count of frames all the same
    return value.get<int64_t>();
}

json merge_video_kwargs(const json& server, const json& request)
{
    json merged = server.is_object() ? server : json::object();
    if (!request.is_object())
        return merged;
    const bool has_fps = request.contains("fps");
    const bool has_num = request.contains("num_frames");
    if (has_fps && !has_num)
        merged.erase("num_frames");
    if (has_num && !has_fps)
        merged.erase("fps");
    merged.update(request);
    return merged;
}

std::vector<int64_t> loader_indices(const DecodedVideo& video, const json& kwargs, VideoLoader loader)
{
    const int64_t total = video.total_frames;
    std::vector<int64_t> indices;
    if (loader == VideoLoader::qwen3_vl) {
        // num_frames is ignored by this loader.
        const double fps = number_or(kwargs, "fps", 2.0) > 0 ? number_or(kwargs, "fps", 2.0) : 2.0;
        int64_t n = to_int(double(total) / metadata_fps(video) * fps);
        n = std::min<int64_t>({std::max<int64_t>(n, 4), 768, total});
        // A header without a length (a recording cut off, a browser's WebM) gives OpenCV a negative count.
        if (n < 0)
            throw LoaderFailure(fmt::format("Number of samples, {}, must be non-negative.", n));
        if (n == 0) // no index to walk up to
            throw LoaderFailure("max() arg is an empty sequence");
        indices = linspace_round(0, total - 1, n);
    } else {
        int64_t n = total;
        const double num_frames = number_or(kwargs, "num_frames", 32);
        if (num_frames > 0)
            n = std::min<int64_t>(to_int(num_frames), total);
        const double fps = number_or(kwargs, "fps", -1);
        if (fps > 0)
            n = std::min<int64_t>(n, to_int(std::floor(double(total) / metadata_fps(video) * fps)));
        n = std::max<int64_t>(1, n);
        for (int64_t i = 0; i < n; ++i) // np.linspace(..., dtype=int) truncates
            indices.push_back(n == 1 ? 0 : static_cast<int64_t>(double(i) * double(total - 1) / double(n - 1)));
    }
    return indices;
}

SampledVideo loaded_video(const DecodedVideo& video, std::vector<int64_t> read, const json& processor_kwargs)
{
    SampledVideo s;
    s.total_frames = video.total_frames;
    s.fps = metadata_fps(video);
    s.indices = std::move(read);
    const bool loaded_every_frame = static_cast<int64_t>(s.indices.size()) == video.total_frames;
    return processor_step(std::move(s), processor_kwargs, loaded_every_frame);
}

SampledVideo sample_frame_list(int64_t frames, const json& kwargs, const json& processor_kwargs)
{
    SampledVideo s;
    s.fps = number_or(kwargs, "fps", 1.0);
    if (kwargs.is_object() && kwargs.contains("frames_indices")) {
        const json& idx = kwargs["frames_indices"];
        if (!idx.is_array() || !std::all_of(idx.begin(), idx.end(), [](const json& v) { return v.is_number_integer(); }))
            throw ApiError::bad_request("frames_indices must be a list of integers");
        if (static_cast<int64_t>(idx.size()) != frames)
            throw ApiError::bad_request(fmt::format("frames_indices length ({}) must match number of frames sent ({})", idx.size(), frames));
        for (const auto& v : idx)
            s.indices.push_back(v.get<int64_t>());
    } else {
        for (int64_t i = 0; i < frames; ++i)
            s.indices.push_back(i);
    }
    s.total_frames = frames;
    if (kwargs.is_object() && kwargs.contains("total_num_frames")) {
        const json& t = kwargs["total_num_frames"];
        if (!t.is_number_integer() || t.get<int64_t>() < 1)
            throw ApiError::bad_request("total_num_frames must be a positive integer");
        if (t.get<int64_t>() < frames)
            throw ApiError::bad_request(fmt::format("total_num_frames ({}) must be >= number of frames sent ({})", t.get<int64_t>(), frames));
        s.total_frames = t.get<int64_t>();
    }
    if (kwargs.is_object() && kwargs.contains("duration") && (!kwargs["duration"].is_number() || kwargs["duration"].get<double>() < 0))
        throw ApiError::bad_request("duration must be a non-negative number");
    const bool do_sample = kwargs.is_object() && kwargs.value("do_sample_frames", false);
    return processor_step(std::move(s), processor_kwargs, do_sample);
}

std::vector<double> frame_times(const SampledVideo& video)
{
    std::vector<double> out;
    for (int64_t i : video.indices)
        out.push_back(double(i) / video.fps);
    return out;
}

std::vector<double> group_timestamps(const SampledVideo& video)
{
    std::vector<int64_t> idx = video.indices;
    if (idx.size() % 2 == 1)
        idx.push_back(idx.back());
    std::vector<double> out;
    for (size_t k = 0; k + 1 < idx.size(); k += 2) {
        const double t = (double(idx[k]) / video.fps + double(idx[k + 1]) / video.fps) / 2;
        char text[32];
        std::snprintf(text, sizeof text, "%.1f", t); // what vLLM prints, f"{t:.1f}"
        out.push_back(std::strtod(text, nullptr));
    }
    return out;
}

} // namespace jarvis::emulator
