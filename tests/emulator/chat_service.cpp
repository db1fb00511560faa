#include "chat_service.hpp"

#include "api_error.hpp"
#include "core/qwen_tokens.hpp"
#include "tokenizer/qwen_tokenizer.hpp"
#include "media_decode.hpp"
#include "media_fetch.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <optional>

namespace jarvis::emulator {
namespace {

using nlohmann::json;

std::string sha256_hex(const std::string& bytes)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
    std::string hex;
    for (unsigned i = 0; i < length; ++i)
        hex += fmt::format("{:02x}", digest[i]);
    return hex;
}

// Qwen3-VL's image smart_resize (factor 32, 4..16384 tokens): the size the processor resizes an image to.
qwen::Size image_resize(int width, int height)
{
    constexpr double f = 32, min_px = 4 * 32 * 32, max_px = 16384.0 * 32 * 32;
    double h = std::max(f, std::nearbyint(height / f) * f);
    double w = std::max(f, std::nearbyint(width / f) * f);
    if (h * w > max_px) {
        const double beta = std::sqrt(double(height) * width / max_px);
        h = std::floor(height / beta / f) * f;
        w = std::floor(width / beta / f) * f;
    } else if (h * w < min_px) {
        const double beta = std::sqrt(min_px / (double(height) * width));
        h = std::ceil(height * beta / f) * f;
        w = std::ceil(width * beta / f) * f;
    }
    return {static_cast<int>(w), static_cast<int>(h)};
}

// An image's tokens: one per 32x32 patch of its resized size, with its vision start and end.
int64_t image_tokens(qwen::Size resized)
{
    return int64_t(resized.width / 32) * (resized.height / 32) + 2;
}

struct Received
{
    json videos = json::array();
    json images = json::array();
    int64_t media_tokens = 0; // each part's tokens as the processor expands it, its vision start and end included
    // The prompt as Qwen3-VL's chat template renders it, each media part as its placeholder
    // (<|vision_start|><|image_pad|><|vision_end|>), which media_tokens counts.
    std::string rendered;
    int64_t media_parts = 0;
    std::vector<PrefixTracker::Piece> pieces; // the prompt in order, for the prefix report
};

constexpr std::string_view image_placeholder = "<|vision_start|><|image_pad|><|vision_end|>";
constexpr std::string_view video_placeholder = "<|vision_start|><|video_pad|><|vision_end|>";

void add_text(Received& r, const std::string& text)
{
    r.rendered += text;
    r.pieces.push_back({"text:" + text, qwen::count_tokens(text)});
}

// What vLLM reports as prompt_tokens: the rendered template's tokens, each placeholder replaced by its media's.
int64_t prompt_tokens_of(const Received& r)
{
    return qwen::count_tokens(r.rendered + "<|im_start|>assistant\n") - 3 * r.media_parts + r.media_tokens;
}

std::vector<std::string> split(const std::string& s, char separator)
{
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t pos; (pos = s.find(separator, start)) != std::string::npos; start = pos + 1)
        out.push_back(s.substr(start, pos - start));
    out.push_back(s.substr(start));
    return out;
}

class RequestReader
{
public:
    RequestReader(const EmulatorOptions& o, const json& request, ProcessorCache& cache) : options_(o), request_(request), cache_(cache)
    {
        const json empty = json::object();
        const json& request_io = request.contains("media_io_kwargs") ? request["media_io_kwargs"] : empty;
        video_kwargs_ = merge_video_kwargs(options_.media_io_kwargs.value("video", json::object()),
                                           request_io.is_object() ? request_io.value("video", json::object()) : json::object());
        processor_kwargs_ = request.value("mm_processor_kwargs", json::object());
    }

    Received read_messages()
    {
        Received r;
        const json& messages = request_.at("messages");
        for (const json& message : messages) {
            const json& content = message.contains("content") ? message["content"] : json();
            const std::string role = message.contains("role") && message["role"].is_string() ? message["role"].get<std::string>() : "";
            r.rendered += "<|im_start|>" + role + "\n";
            r.pieces.push_back({"message:" + role, qwen::message_tokens(role, "")});
            if (content.is_string()) {
                add_text(r, content.get<std::string>());
            } else if (content.is_array()) {
                for (const json& part : content)
                    read_part(part, r);
            } else if (!content.is_null()) {
                throw ApiError(400, "Bad Request", "1 validation error:\n  {'type': 'list_type', 'loc': ('body', 'messages', 'content'), 'msg': 'Input should be a valid string or list'}", "body.messages");
            }
            r.rendered += "<|im_end|>\n";
        }
        return r;
    }

private:
    void check_limit(const char* modality, size_t count) const
    {
        const int64_t limit = options_.limit_mm_per_prompt.value(modality, 999);
        if (static_cast<int64_t>(count) > limit)
            throw ApiError::bad_request(fmt::format("At most {} {}(s) may be provided in one prompt. Set "
                                                    "`--limit-mm-per-prompt` to increase this limit.",
                                                    limit, modality),
                                        modality);
    }

    // The part's URL; empty when a part with a uuid leaves its media out (null, or no url).
    static std::string url_of(const json& part, const char* key, bool has_uuid)
    {
        const json v = part.contains(key) ? part.at(key) : json();
        if (v.is_string())
            return v.get<std::string>();
        if (v.is_object() && v.contains("url") && v["url"].is_string())
            return v["url"].get<std::string>();
        if (has_uuid && (v.is_null() || (v.is_object() && (!v.contains("url") || v["url"].is_null()))))
            return {};
        throw ApiError::bad_request(fmt::format("1 validation error: {}.url: Field required", key), key);
    }

    // One image or video part through the processor cache, as vLLM takes it: with media, fetched and decoded, then
    // processed unless the cache has its key; without (a uuid alone), from the cache or refused.
    template <typename Read>
    json through_cache(const json& part, const char* key, const char* modality, size_t index, Received& r, Read read)
    {
        const std::string uuid = part.contains("uuid") && part["uuid"].is_string() ? part["uuid"].get<std::string>() : "";
        const std::string url = url_of(part, key, !uuid.empty());
        json description;
        int64_t tokens = 0;
        if (url.empty()) {
            const auto cached = cache_.enabled() ? cache_.find(uuid) : std::nullopt;
            if (!cached)
                throw ApiError::bad_request(fmt::format("Cache miss for {} at index {} but data is not provided.", modality, index));
            description = cached->description;
            tokens = cached->tokens;
            description["media"] = "cache";
            description["processor_cache"] = "hit";
        } else {
            description = read(url, index, tokens);
            description["media"] = "fetched";
            const std::string cache_key = uuid.empty() ? description.value("sha256", std::string()) : uuid;
            if (!cache_.enabled()) {
                description["processor_cache"] = "off";
            } else if (cache_.find(cache_key)) {
                description["processor_cache"] = "hit";
            } else {
                json stored = description;
                stored.erase("media");
                cache_.store(cache_key, {stored, tokens});
                description["processor_cache"] = "stored";
            }
        }
        if (!uuid.empty())
            description["uuid"] = uuid;
        r.media_tokens += tokens;
        r.rendered += std::string_view(modality) == "video" ? video_placeholder : image_placeholder;
        ++r.media_parts;
        r.pieces.push_back({"media:" + (uuid.empty() ? description.value("sha256", std::string()) : uuid), tokens});
        return description;
    }

    void read_part(const json& part, Received& r)
    {
        if (!part.is_object())
            throw ApiError::bad_request("Invalid content part: expected an object");
        std::string type = part.value("type", "");
        if (type.empty()) {
            if (part.contains("video_url"))
                type = "video_url";
            else if (part.contains("image_url"))
                type = "image_url";
            else
                throw ApiError::bad_request("Missing 'type' field in multimodal part.", "type");
        }
        if (type == "text") {
            add_text(r, part.value("text", ""));
        } else if (type == "video_url") {
            check_limit("video", r.videos.size() + 1);
            r.videos.push_back(through_cache(part, "video_url", "video", r.videos.size(), r,
                                             [&](const std::string& url, size_t i, int64_t& t) { return read_video(url, i, t); }));
        } else if (type == "image_url") {
            check_limit("image", r.images.size() + 1);
            r.images.push_back(through_cache(part, "image_url", "image", r.images.size(), r,
                                             [&](const std::string& url, size_t i, int64_t& t) { return read_image(url, i, t); }));
        } else {
            throw ApiError::bad_request(fmt::format("Unsupported chat content part type: '{}'. Supported types: text, "
                                                    "image_url, video_url, input_audio, audio_url.",
                                                    type),
                                        "type");
        }
    }

    static std::string fetch_or_data(const std::string& url, const FetchPolicy& policy, std::string* media_type)
    {
        if (url.size() >= 5 && strncasecmp(url.c_str(), "data:", 5) == 0) {
            const DataUrl d = parse_data_url(url);
            *media_type = d.media_type;
            return d.media_type == "video/jpeg" ? d.payload : decode_base64(d.payload);
        }
        return fetch_url(url, policy);
    }

    json describe_video(const SampledVideo& s, int width, int height, const std::string& bytes, int64_t& tokens) const
    {
        const qwen::VideoEstimate processed = qwen::estimate_video(frame_times(s), width, height);
        tokens += processed.visual_tokens;
        return json{{"frames", s.indices.size()},
                    {"timestamps", group_timestamps(s)},
                    {"width", width},
                    {"height", height},
                    {"resized_width", processed.resized.width},
                    {"resized_height", processed.resized.height},
                    {"bytes", bytes.size()},
                    {"sha256", sha256_hex(bytes)}};
    }

    json read_video(const std::string& url, size_t index, int64_t& tokens) const
    {
        std::string media_type;
        const std::string fetched = fetch_or_data(url, options_.fetch, &media_type);
        if (media_type == "video/jpeg")
            return read_frame_list(fetched, tokens);
        // The decoder vLLM's loader uses (media_io_kwargs video.backend): OpenCV walks every frame, TorchCodec demuxes
        // and then decodes from each sampled frame's keyframe to it.
        const std::string backend = video_kwargs_.value("backend", std::string("opencv"));
        if (backend != "opencv" && backend != "torchcodec")
            throw ApiError::bad_request(fmt::format("Unknown video codec backend '{}'; valid options: 'opencv', 'torchcodec', "
                                                    "'pynvvideocodec', 'deepstream' (the GPU ones are not emulated).",
                                                    backend));
        DecodedVideo video;
        std::optional<ScannedVideo> scanned;
        std::vector<int64_t> read;
        int64_t decoded = 0;
        try {
            if (backend == "torchcodec") {
                scanned = scan_video(fetched);
                video = scanned->video;
                read = loader_indices(video, video_kwargs_, options_.loader);
                decoded = decode_at_indices(fetched, *scanned, read);
            } else {
                video = read_as_opencv(fetched);
                OpenCvWalk walk = walk_like_opencv(fetched, loader_indices(video, video_kwargs_, options_.loader));
                if (walk.grabbed == 0)
                    throw std::runtime_error("no frame could be decoded");
                read = std::move(walk.read);
                decoded = walk.grabbed;
            }
        } catch (const std::exception& e) { // FFmpeg's reasons and the loader's (LoaderFailure) alike
            throw ApiError(422, "UnprocessableEntityError", fmt::format("Failed to decode video media at index {}: {}", index, e.what()));
        }
        const SampledVideo s = loaded_video(video, std::move(read), processor_kwargs_);
        // Tests see how much the loader decoded.
        std::cerr << fmt::format("vlm-emulator: decoded {} of {} frames ({})", decoded, video.total_frames, backend) << std::endl;
        if (s.indices.size() < 2)
            throw ApiError::bad_request(fmt::format("t:{} must be larger than temporal_factor:2", s.indices.size()));
        return describe_video(s, video.width, video.height, fetched, tokens);
    }

    // data:video/jpeg;base64,<f1>,<f2>,...: frames sent by the client, truncated to num_frames (reference §2.1).
    json read_frame_list(const std::string& payload, int64_t& tokens) const
    {
        std::vector<std::string> parts = split(payload, ',');
        const int64_t num_frames = integer_or(video_kwargs_, "num_frames", 32);
        if (num_frames == 0 || num_frames < -1)
            throw ApiError::bad_request("num_frames must be greater than 0 or -1");
        if (num_frames > 0 && static_cast<int64_t>(parts.size()) > num_frames)
            parts.resize(static_cast<size_t>(num_frames));
        std::string all_bytes;
        int width = 0, height = 0;
        for (const std::string& encoded : parts) {
            const std::string bytes = decode_base64(encoded);
            DecodedImage image;
            try {
                image = decode_image(bytes);
            } catch (const std::exception& e) {
                throw ApiError::bad_request(std::string("cannot identify image file: ") + e.what());
            }
            if (width == 0) {
                width = image.width;
                height = image.height;
            } else if (image.width != width || image.height != height) {
                throw ApiError::bad_request("all input arrays must have the same shape");
            }
            all_bytes += bytes;
        }
        const SampledVideo s = sample_frame_list(static_cast<int64_t>(parts.size()), video_kwargs_, processor_kwargs_);
        if (s.indices.size() < 2)
            throw ApiError::bad_request(fmt::format("t:{} must be larger than temporal_factor:2", s.indices.size()));
        return describe_video(s, width, height, all_bytes, tokens);
    }

    json read_image(const std::string& url, size_t index, int64_t& tokens) const
    {
        std::string media_type;
        const std::string bytes = fetch_or_data(url, options_.fetch, &media_type);
        DecodedImage image;
        try {
            image = decode_image(media_type == "video/jpeg" ? decode_base64(bytes) : bytes);
        } catch (const std::exception& e) {
            throw ApiError(422, "UnprocessableEntityError", fmt::format("Failed to decode image media at index {}: {}", index, e.what()));
        }
        const qwen::Size resized = image_resize(image.width, image.height);
        tokens += image_tokens(resized);
        return json{{"width", image.width},
                    {"height", image.height},
                    {"resized_width", resized.width},
                    {"resized_height", resized.height},
                    {"bytes", bytes.size()},
                    {"sha256", sha256_hex(bytes)}};
    }

    const EmulatorOptions& options_;
    const json& request_;
    ProcessorCache& cache_;
    json video_kwargs_;
    json processor_kwargs_;
};

// Cuts text into pieces of about `size` bytes without splitting a UTF-8 sequence.
std::vector<std::string> utf8_pieces(const std::string& text, size_t size)
{
    std::vector<std::string> out;
    size = std::max<size_t>(size, 1); // a piece of nothing would never end the loop
    size_t start = 0;
    while (start < text.size()) {
        size_t end = std::min(text.size(), start + size);
        while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
            ++end;
        out.push_back(text.substr(start, end - start));
        start = end;
    }
    return out;
}

// A start of the text (whole UTF-8 characters, the longest bisection finds) that is at most `tokens` tokens: what a
// model stopped by max_tokens has said.
std::string first_tokens(const std::string& text, int64_t tokens)
{
    size_t fits = 0, beyond = text.size(); // byte lengths: the first fits, the second does not
    while (beyond - fits > 1) {
        size_t middle = fits + (beyond - fits) / 2;
        while (middle > fits && (static_cast<unsigned char>(text[middle]) & 0xC0) == 0x80)
            --middle;
        if (middle == fits)
            break;
        if (qwen::count_tokens(std::string_view(text).substr(0, middle)) <= tokens)
            fits = middle;
        else
            beyond = middle;
    }
    return text.substr(0, fits);
}

std::string padding_text(int bytes)
{
    const std::string phrase = "Der Ball rollt über die Straße — 球在滚动 ✓ ";
    std::string out;
    while (static_cast<int>(out.size()) < bytes)
        out += phrase;
    size_t end = static_cast<size_t>(bytes);
    while (end > 0 && (static_cast<unsigned char>(out[end]) & 0xC0) == 0x80)
        --end;
    return out.substr(0, end);
}

std::atomic<uint64_t> request_counter{0};

} // namespace

json ChatService::models() const
{
    return {{"object", "list"},
            {"data", json::array({{{"id", options_.served_model_name},
                                   {"object", "model"},
                                   {"owned_by", "vllm"},
                                   {"root", options_.served_model_name},
                                   {"max_model_len", options_.max_model_len}}})}};
}

ChatReply ChatService::handle(const std::string& request_body) const
{
    ChatReply reply;
    try {
        const json request = json::parse(request_body, nullptr, false);
        if (!request.is_object())
            throw ApiError(400, "Bad Request", "1 validation error:\n  {'type': 'json_invalid', 'loc': ('body',), 'msg': 'JSON decode error'}");
        if (!request.contains("messages") || !request["messages"].is_array())
            throw ApiError(400, "Bad Request", "1 validation error:\n  {'type': 'missing', 'loc': ('body', 'messages'), 'msg': 'Field required'}", "body.messages");
        if (request.contains("model") && request["model"].is_string() && request["model"] != options_.served_model_name)
            throw ApiError(404, "NotFoundError", fmt::format("The model `{}` does not exist.", request["model"].get<std::string>()), "model");

        RequestReader reader(options_, request, *cache_);
        Received received = reader.read_messages();
        const int64_t prompt_tokens = prompt_tokens_of(received);
        const int64_t limit = options_.max_model_len;
        if (prompt_tokens > limit)
            throw ApiError::bad_request(fmt::format(
                "The decoder prompt (length {}) is longer than the maximum model length of {}. Make sure that "
                "`max_model_len` is no smaller than the number of text tokens plus multimodal tokens. For image inputs, "
                "the number of image tokens depends on the number of images, and possibly their aspect ratios as well.",
                prompt_tokens, limit));
        const int64_t max_tokens = request.contains("max_tokens") && request["max_tokens"].is_number_integer()
                                       ? request["max_tokens"].get<int64_t>()
                                       : limit - prompt_tokens;
        // vLLM's SamplingParams refuses these before anything is generated.
        if (max_tokens < 1)
            throw ApiError::bad_request(fmt::format("max_tokens must be at least 1, got {}.", max_tokens), "max_tokens");
        if (max_tokens > limit - prompt_tokens) // (not prompt + max > limit: a huge max_tokens would overflow)
            throw ApiError::bad_request(
                fmt::format("This model's maximum context length is {} tokens. However, you requested {} output tokens "
                            "and your prompt contains at least {} input tokens, for a total of at least {} tokens. "
                            "Please reduce the length of the input prompt or the number of requested output tokens.",
                            limit, max_tokens, prompt_tokens,
                            max_tokens > INT64_MAX - prompt_tokens ? INT64_MAX : prompt_tokens + max_tokens),
                "input_tokens");

        // How much of this prompt the previous request's started with: what automatic prefix caching would reuse.
        const PrefixTracker::Shared shared = prefix_->shared_with_previous(std::move(received.pieces));
        json media_report = json::array();
        for (auto& [modality, items] : {std::pair<const char*, json*>{"video", &received.videos}, {"image", &received.images}})
            for (json& item : *items) {
                json entry = {{"modality", modality}, {"media", item["media"]}, {"processor_cache", item["processor_cache"]}};
                if (item.contains("uuid"))
                    entry["uuid"] = item["uuid"];
                media_report.push_back(std::move(entry));
                item.erase("media");
                item.erase("processor_cache");
                item.erase("uuid");
            }
        const json report = {{"media", std::move(media_report)},
                             {"prefix", {{"shared_tokens", shared.tokens}, {"previous_tokens", shared.previous_tokens}}}};
        json description = {{"videos", received.videos}, {"images", received.images}};
        if (options_.answer_padding_bytes > 0)
            description["padding"] = padding_text(options_.answer_padding_bytes);
        std::string answer = description.dump();
        std::string finish = "stop";
        if (qwen::count_tokens(answer) > max_tokens) {
            answer = first_tokens(answer, max_tokens);
            finish = "length";
        }
        const int64_t completion_tokens = qwen::count_tokens(answer);
        const json usage = {{"prompt_tokens", prompt_tokens},
                            {"completion_tokens", completion_tokens},
                            {"total_tokens", prompt_tokens + completion_tokens}};
        const std::string id = fmt::format("chatcmpl-emu{}", ++request_counter);
        const auto created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();

        reply.report = report;
        reply.stream = request.value("stream", false);
        if (!reply.stream) {
            reply.body = {{"id", id},
                          {"object", "chat.completion"},
                          {"created", created},
                          {"model", options_.served_model_name},
                          {"choices", json::array({{{"index", 0},
                                                    {"message", {{"role", "assistant"}, {"content", answer}, {"reasoning_content", nullptr}}},
                                                    {"logprobs", nullptr},
                                                    {"finish_reason", finish},
                                                    {"stop_reason", nullptr}}})},
                          {"usage", usage}};
            return reply;
        }
        auto chunk = [&](json delta, json finish_reason) {
            return json{{"id", id},
                        {"object", "chat.completion.chunk"},
                        {"created", created},
                        {"model", options_.served_model_name},
                        {"choices", json::array({{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr}, {"finish_reason", std::move(finish_reason)}}})}};
        };
        reply.chunks.push_back(chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
        for (const std::string& piece : utf8_pieces(answer, 24)) {
            reply.chunks.push_back(chunk({{"content", piece}}, nullptr));
            ++reply.content_chunks;
        }
        json last = chunk(json::object(), finish);
        last["choices"][0]["stop_reason"] = nullptr;
        reply.chunks.push_back(std::move(last));
        const json& options = request.value("stream_options", json());
        if (options.is_object() && options.value("include_usage", true))
            reply.chunks.push_back({{"id", id}, {"object", "chat.completion.chunk"}, {"created", created},
                                    {"model", options_.served_model_name}, {"choices", json::array()}, {"usage", usage}});
    } catch (const ApiError& e) {
        reply = ChatReply{};
        reply.status = e.status();
        reply.body = e.body();
    } catch (const json::exception& e) {
        reply = ChatReply{};
        const ApiError error = ApiError::bad_request(std::string("1 validation error: ") + e.what());
        reply.status = error.status();
        reply.body = error.body();
    }
    return reply;
}

} // namespace jarvis::emulator
