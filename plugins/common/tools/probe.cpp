#include "tools/probe.hpp"

#include "core/qwen_tokens.hpp"
#include "http/server_models.hpp"
#include "media/decode_timing.hpp"
#include "media/media_error.hpp"
#include "media/media_source.hpp"
#include "media/test_pattern.hpp"
#include "media/video_prefix.hpp"
#include "platform/native_path.hpp"
#include "platform/owned_files.hpp"
#include "tools/client_decoding.hpp"
#include "tools/probe_files.hpp"
#include "tools/stage_copy_timing.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>

namespace jarvis {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;


// The server's video decoding against this machine's. Two videos of the same size sampled to the same few frames
// (so that the model's work is the same), one ten times longer, whose extra frames vLLM's loader must decode to reach
// its samples: the server's time for each (total less the client's media time), the lower of two tries, and the
// difference per megapixel decoded; this machine decodes both too, for its own rate. By default they are our test
// pattern, MPEG-4 Part 2 (every FFmpeg build encodes it), not H.264, so that only the ratio of the two rates carries
// over to a user's video; given a video of theirs, its first seconds copied as they are (any build can copy), the
// measurement is of their codec, size and keyframe interval.
constexpr int calibration_width = 1280;
constexpr int calibration_height = 720;
constexpr int calibration_fps = 30;
constexpr double calibration_seconds = 20;     // the longer video; the brief one is a tenth of it
constexpr double shortest_calibration_video = 5; // below this the two differ too little to time
// Read from a user's video beyond its copied prefix: the container's header and index, the system's read-ahead.
constexpr int64_t prefix_read_margin_bytes = 16 << 20;

// One of the two calibration videos, written into the probe's folder and removed with it.
struct CalibrationVideo
{
    std::unique_ptr<ProbeFile> file;
    int64_t frames = 0; // as the server's loader reads them from the header
    double fps = 0;
    int64_t server_decoded = 0;
    double server_s = std::numeric_limits<double>::infinity();
    double client_s = std::numeric_limits<double>::infinity();
};

// Both calibration videos, brief and ten times longer, and what they are.
struct Calibration
{
    std::vector<CalibrationVideo> videos;
    std::string codec = "mpeg4";
    int width = calibration_width;
    int height = calibration_height;
    std::string user_video; // empty for the test pattern
};

double server_seconds(const json& result)
{
    const json& timings = result.at("timings");
    return timings.at("total_s").get<double>() - timings.at("media_s").get<double>();
}

// The calibration videos in `dir`: copies of `user_video`'s first seconds, or the test pattern when it is empty. A
// user's video too short, or cut short, to time throws MediaError naming it.
Calibration make_calibration(const fs::path& dir, const std::string& user_video)
{
    Calibration c;
    std::optional<MediaSource> source; // one reader for both copies: each starts from the video's start
    std::optional<MediaInfo> info;
    if (!user_video.empty()) {
        source.emplace(MediaSource::open(user_video));
        info = source->info();
        if (info->duration_s < shortest_calibration_video)
            throw MediaError(fmt::format("cannot measure the server's decoding with '{}': it is {:.1f} s long, and the measurement needs "
                                         "at least {:g} s",
                                         user_video, info->duration_s, shortest_calibration_video));
        c.codec = info->codec;
        c.user_video = user_video;
    }
    const double longer_s = info ? std::min(calibration_seconds, info->duration_s) : calibration_seconds;
    for (const double seconds : {longer_s / 10, longer_s}) {
        CalibrationVideo v;
        v.file = std::make_unique<ProbeFile>();
        v.file->path = unique_probe_path(dir);
        const std::string path = utf8_path(v.file->path);
        if (source) {
            write_video_prefix(*source, path, seconds);
            const MediaInfo copy = MediaSource::open(path).info(); // what the server's loader will see
            v.frames = expected_frame_count(copy);
            v.fps = copy.avg_fps;
            c.width = copy.coded_width;
            c.height = copy.coded_height;
        } else {
            write_test_pattern_video(path, static_cast<int>(seconds), calibration_fps, calibration_width, calibration_height);
            v.frames = static_cast<int64_t>(seconds) * calibration_fps;
            v.fps = calibration_fps;
        }
        c.videos.push_back(std::move(v));
    }
    // A file cut short (a recording that crashed) has a header longer than what it holds.
    const CalibrationVideo& longer = c.videos.back();
    const double held_s = longer.fps > 0 ? double(longer.frames) / longer.fps : 0;
    if (info && held_s < shortest_calibration_video)
        throw MediaError(fmt::format("cannot measure the server's decoding with '{}': only {:.1f} s of it can be read (its header says "
                                     "{:.1f} s: cut short?), and the measurement needs at least {:g} s",
                                     user_video, held_s, info->duration_s, shortest_calibration_video));
    return c;
}

json measure_server_decoding(const std::string& base, const std::string& delivery, const ProviderConfig& config, Calibration& calibration,
                             const ProbeAsk& ask, const plugin::Call& call)
{
    for (auto& v : calibration.videos) {
        call.throw_if_cancelled();
        const std::string path = utf8_path(v.file->path);
        // 4 frames from each, vLLM's least, so that the model's work is the same.
        const double sample_fps = v.fps > 0 && v.frames > 0 ? 4 * v.fps / double(v.frames) : 0.2;
        const auto indices = qwen::qwen3_loader_indices(v.frames, v.fps, sample_fps);
        v.server_decoded = indices.empty() ? 0 : indices.back() + 1;
        const json request = {{"video", path},
                              {"prompt", "What moves in this clip?"},
                              {"loadout", fmt::format("{}#delivery={}#fallback=off#max_tokens=1#fps={}", base, delivery, sample_fps)}};
        for (int attempt = 0; attempt < 2; ++attempt) {
            v.server_s = std::min(v.server_s, server_seconds(json::parse(ask(request.dump()))));
            v.client_s = std::min(v.client_s, seconds_to_decode_every_frame(path));
        }
    }
    const int width = calibration.width;
    const int height = calibration.height;
    const auto& videos = calibration.videos;
    const double megapixels = double(width) * height / 1e6;
    const CalibrationVideo& brief = videos[0];
    const CalibrationVideo& longer = videos[1];
    const int64_t extra_frames = longer.server_decoded - brief.server_decoded;
    const double server_rate = (longer.server_s - brief.server_s) * 1000 / (double(extra_frames) * megapixels);
    const double client_rate = (longer.client_s - brief.client_s) * 1000 / (double(extra_frames) * megapixels);
    json out = {{"delivery", delivery},
                {"codec", calibration.codec},
                {"frame_size", fmt::format("{}x{}", width, height)},
                {"frames_decoded", {brief.server_decoded, longer.server_decoded}},
                {"server_s", {brief.server_s, longer.server_s}},
                {"client_s", {brief.client_s, longer.client_s}}};
    if (!calibration.user_video.empty())
        out["video"] = calibration.user_video;
    if (config.vllm.video_decoder == "torchcodec") {
        // TorchCodec seeks to each sample's keyframe: the longer video costs it about what the brief one does.
        out["server_ms_per_megapixel"] = nullptr;
        out["advice"] = "vllm.video_decoder is torchcodec, which seeks instead of decoding every frame: this measurement assumes "
                        "every frame is decoded and does not apply; keep delivery_costs.server_decode_ms_per_megapixel as it is";
        return out;
    }
    if (!(server_rate > 0 && client_rate > 0)) {
        out["server_ms_per_megapixel"] = nullptr;
        out["advice"] = "the longer video was not slower to answer: the server's decoding is too fast to measure this way (or the "
                        "timings were disturbed); keep delivery_costs.server_decode_ms_per_megapixel as it is";
        return out;
    }
    const double suggested = reference_decode_ms_per_megapixel * server_rate / client_rate;
    out["server_ms_per_megapixel"] = server_rate;
    out["client_ms_per_megapixel"] = client_rate;
    out["server_decode_ms_per_megapixel"] = suggested;
    const auto& configured = config.delivery_costs.server_decode_ms_per_megapixel;
    out["advice"] = fmt::format("the server decodes video {:.2g}x as fast as this machine: set delivery_costs.server_decode_ms_per_megapixel "
                                "to {:.2g} ({}) so that delivery=auto weighs that",
                                client_rate / server_rate, suggested,
                                configured ? fmt::format("now {:.2g}", *configured) : fmt::format("now the default {:.2g}", reference_decode_ms_per_megapixel));
    return out;
}

// What the server pays per MB it is given, through each pointer delivery that works: the same short video plain and
// with padding every reader skips (an MP4 free box), sampled alike, so that the server's extra time is the padding's
// reading (file: from the shared volume; vLLM reads a local file whole) or transfer (http: its download from us;
// data: our upload of it in base64). The lower of two tries each, alternating.
constexpr uint32_t transfer_padding_bytes = 64u << 20;

json measure_transfer_rates(const fs::path& dir, const std::string& base, const std::vector<std::string>& working,
                            const ProviderConfig& config, const ProbeAsk& ask, const plugin::Call& call)
{
    json out = json::object();
    const auto works = [&](const char* d) { return std::find(working.begin(), working.end(), d) != working.end(); };
    // Each measured rate with its delivery_costs key; the upload through http when it works, else through data.
    std::vector<std::pair<std::string, std::string>> measured;
    if (works("file"))
        measured.emplace_back("file", "volume_read_mb_per_s");
    if (works("http"))
        measured.emplace_back("http", "upload_mb_per_s");
    else if (works("data"))
        measured.emplace_back("data", "upload_mb_per_s");
    std::vector<std::string> suggestions;
    for (const auto& [delivery, key] : measured) {
        call.throw_if_cancelled();
        // data has a size limit of its own; half of it leaves room for the video.
        const uint32_t padding = delivery == "data" ? static_cast<uint32_t>(std::min<int64_t>(transfer_padding_bytes, config.data_delivery.max_bytes / 2))
                                                    : transfer_padding_bytes;
        const double padding_mb = double(padding) / 1e6;
        ProbeFile plain{unique_probe_path(dir)};
        ProbeFile padded{unique_probe_path(dir)};
        write_test_pattern_video(utf8_path(plain.path), 2);
        write_test_pattern_video(utf8_path(padded.path), 2);
        pad_mp4(utf8_path(padded.path), padding);
        double plain_s = std::numeric_limits<double>::infinity();
        double padded_s = plain_s;
        try {
            for (int attempt = 0; attempt < 2; ++attempt)
                for (const ProbeFile* video : {&plain, &padded}) {
                    const json request = {{"video", utf8_path(video->path)},
                                          {"prompt", "What moves in this clip?"},
                                          {"loadout", fmt::format("{}#delivery={}#fallback=off#max_tokens=1#fps=2", base, delivery)}};
                    double& best = video == &plain ? plain_s : padded_s;
                    best = std::min(best, server_seconds(json::parse(ask(request.dump()))));
                }
        } catch (const plugin::Error& e) {
            // The delivery worked with the small video: what refuses the big one (a proxy's body limit) is worth knowing.
            if (e.code() == JV_E_CANCELLED)
                throw;
            out[delivery] = {{"delivery", delivery}, {"padding_mb", padding_mb}, {"error", e.what()}, {key, nullptr}};
            continue;
        }
        // data sends the padding as base64, which the cost model counts as 4/3 of the file.
        const double moved_mb = delivery == "data" ? padding_mb * 4 / 3 : padding_mb;
        const double extra_s = padded_s - plain_s;
        json entry = {{"delivery", delivery}, {"padding_mb", padding_mb}, {"plain_s", plain_s}, {"padded_s", padded_s}};
        if (extra_s > 0.005) {
            entry[key] = moved_mb / extra_s;
            const double now = key == "volume_read_mb_per_s" ? config.delivery_costs.volume_read_mb_per_s.value_or(default_volume_read_mb_per_s)
                                                             : config.delivery_costs.upload_mb_per_s.value_or(default_upload_mb_per_s);
            suggestions.push_back(fmt::format("delivery_costs.{} to {:.0f} (now {:.0f})", key, moved_mb / extra_s, now));
        } else {
            entry[key] = nullptr; // faster than the timings resolve: over 10 GB/s, nothing to weigh
        }
        out[delivery] = std::move(entry);
    }
    out["advice"] = suggestions.empty()
                        ? std::string("reading and moving a video cost the server too little to measure; keep delivery_costs as they are")
                        : fmt::format("set {} so that delivery=auto weighs them", fmt::join(suggestions, " and "));
    return out;
}

} // namespace

std::string probe_advice(const std::string& delivery, const std::string& message, const ProviderConfig& config)
{
    auto has = [&](const char* text) { return message.find(text) != std::string::npos; };
    if (has("Cannot load local files"))
        return "start vLLM with --allowed-local-media-path " + config.input_data.container_path + " and the volume mounted there "
               "(see jarvis-host vllm-command)";
    if (has("must be a subpath"))
        return "input_data.container_path must be the directory vLLM's --allowed-local-media-path names";
    if (has("No such file"))
        return "the volume is not mounted at " + config.input_data.container_path + " inside vLLM's container";
    if (has("Failed to fetch") || has("Cannot fetch"))
        return "the server cannot fetch from this machine: set http_delivery.advertise to a name it resolves (host.docker.internal "
               "for Docker Desktop) and http_delivery.bind to an address it can reach";
    if (has("base64") || has("data URL"))
        return "the server refuses data URLs: use delivery=file, http or frames";
    if (has("video(s) may be provided"))
        return "start vLLM with --limit-mm-per-prompt.video 1";
    if (has("maximum context length") || has("decoder prompt"))
        return "raise --max-model-len (and #ctx) or lower fps";
    if (has("does not exist") && delivery.empty())
        return "the loadout's model is not the one the server serves";
    return {};
}

json run_probe(const ProviderConfig& config, const Loadout& loadout, const std::string& calibration_video, const ProbeAsk& ask,
               const plugin::Call& call)
{
    // The probe's videos live inside the shared volume when there is one, so that the file delivery needs no staging.
    const fs::path dir = config.input_data.configured() ? native_path(config.input_data.host_path) : fs::temp_directory_path();
    remove_abandoned_files(dir, probe_prefix); // the videos (up to 64 MB each) and copies (256 MB) of a probe that was killed
    // A user's video is copied first, so that one that cannot serve fails before anything is sent; the test pattern
    // is made only when a delivery can take it.
    std::optional<Calibration> calibration;
    if (!calibration_video.empty())
        calibration = make_calibration(dir, calibration_video);

    json report = {{"endpoint", config.endpoint.base_url}, {"model", loadout.model}};
    call.progress("models", -1);
    const auto models = fetch_model_ids(config.endpoint); // unreachable: JV_E_UNREACHABLE to the host
    report["models"] = models;
    report["model_served"] = std::find(models.begin(), models.end(), loadout.model) != models.end();

    ProbeFile video{unique_probe_path(dir)};
    write_test_pattern_video(utf8_path(video.path), 3);

    std::vector<std::string> deliveries;
    if (config.input_data.configured())
        deliveries.push_back("file");
    if (!config.http_delivery.advertise.empty())
        deliveries.push_back("http");
    deliveries.insert(deliveries.end(), {"data", "frames"});

    std::string base = loadout.text;
    if (!loadout.native_video)
        base += "#nativevideo";
    json results = json::array();
    bool any_works = false;
    for (size_t i = 0; i < deliveries.size(); ++i) {
        const std::string& delivery = deliveries[i];
        call.throw_if_cancelled();
        call.progress(("delivery " + delivery).c_str(), double(i) / double(deliveries.size()));
        const json request = {{"video", utf8_path(video.path)},
                              {"prompt", "What moves in this clip?"},
                              {"loadout", base + "#delivery=" + delivery + "#fallback=off#max_tokens=64"}};
        json entry = {{"delivery", delivery}};
        const auto start = std::chrono::steady_clock::now();
        try {
            const json result = json::parse(ask(request.dump()));
            entry["ok"] = true;
            // The server's usage, as it sent it: only an integer is a count (a float's conversion could be undefined).
            const json tokens = result["usage"].is_object() ? result["usage"].value("prompt_tokens", json()) : json();
            entry["prompt_tokens"] = tokens.is_number_integer() ? tokens : json(0);
            any_works = true;
        } catch (const plugin::Error& e) {
            if (e.code() == JV_E_CANCELLED)
                throw;
            entry["ok"] = false;
            entry["error"] = e.what();
            if (e.http_status() != 0)
                entry["http_status"] = e.http_status();
            if (const std::string advice = probe_advice(delivery, e.what(), config); !advice.empty())
                entry["advice"] = advice;
        }
        entry["latency_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        results.push_back(std::move(entry));
    }
    report["deliveries"] = results;
    report["ok"] = any_works;
    std::vector<std::string> working;
    for (const auto& entry : results)
        if (entry["ok"] == true)
            working.push_back(entry["delivery"].get<std::string>());
    // Through the first pointer delivery that works: the server decodes what it is sent.
    for (const auto& entry : results)
        if (entry["ok"] == true && entry["delivery"] != "frames") {
            call.progress("server decoding", -1);
            if (!calibration)
                calibration = make_calibration(dir, {});
            report["server_decoding"] = measure_server_decoding(base, entry["delivery"].get<std::string>(), config, *calibration, ask, call);
            call.progress("transfer rates", -1);
            report["transfer_rates"] = measure_transfer_rates(dir, base, working, config, ask, call);
            break;
        }
    // Ours, on the GPU frames.hardware_decode names: needs no server.
    if (config.frames.hardware_decode != "off") {
        call.progress("client decoding", -1);
        if (!calibration)
            calibration = make_calibration(dir, {});
        const auto& videos = calibration->videos;
        const ClientDecodingTimes times =
            measure_client_decoding(config.frames.hardware_decode, {utf8_path(videos[0].file->path), utf8_path(videos[1].file->path)},
                                    calibration->codec, double(calibration->width) * calibration->height / 1e6,
                                    !calibration->user_video.empty(), call);
        report["client_decoding"] = client_decoding_report(times, config.delivery_costs);
    }
    // What the file delivery's copy of a video on another drive costs, on the user's own video.
    if (!calibration_video.empty() && config.input_data.configured()) {
        call.progress("stage copy", -1);
        std::error_code ec;
        const auto prefix_bytes = static_cast<int64_t>(fs::file_size(calibration->videos.back().file->path, ec));
        report["stage_copy"] = measure_stage_copy(dir, native_path(calibration_video), (ec ? 0 : prefix_bytes) + prefix_read_margin_bytes,
                                                  config.delivery_costs, call);
    }
    return report;
}

} // namespace jarvis
