#include "core/conversation.hpp"

#include "config/config_error.hpp"
#include "core/qwen_tokens.hpp"
#include "platform/native_path.hpp"

extern "C" {
#include <libavutil/mem.h>
#include <libavutil/sha.h>
}

#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <vector>

namespace jarvis {
namespace {

using nlohmann::json;

std::string sha256_hex(std::string_view bytes)
{
    std::unique_ptr<AVSHA, decltype(&av_free)> sha(av_sha_alloc(), &av_free);
    if (!sha || av_sha_init(sha.get(), 256) < 0)
        throw std::bad_alloc();
    av_sha_update(sha.get(), reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    uint8_t digest[32];
    av_sha_final(sha.get(), digest);
    std::string hex;
    for (uint8_t b : digest)
        hex += fmt::format("{:02x}", b);
    return hex;
}

[[noreturn]] void corrupted(const std::string& why)
{
    throw ConfigError("request: conversation: " + why + " (pass the \"conversation\" of a previous ask result unchanged)");
}

std::string string_member(const json& doc, const char* key)
{
    if (!doc.contains(key) || !doc[key].is_string() || doc[key].get<std::string>().empty())
        corrupted(fmt::format("'{}' is missing or not a string", key));
    return doc[key].get<std::string>();
}

} // namespace

json Conversation::to_json() const
{
    json turn_list = json::array();
    for (const auto& t : turns)
        turn_list.push_back({{"prompt", t.prompt}, {"answer", t.answer}});
    json doc = {{"version", conversation_version}, {"plugin", plugin},     {"video", video},
                {"loadout", loadout},              {"media_key", media_key}, {"turns", std::move(turn_list)}};
    if (!delivery.empty())
        doc["delivery"] = delivery;
    if (max_frames)
        doc["max_frames"] = *max_frames;
    return doc;
}

Conversation parse_conversation(const json& doc, std::string_view plugin)
{
    if (!doc.is_object())
        corrupted("not an object");
    if (!doc.contains("version") || !doc["version"].is_number_integer())
        corrupted("'version' is missing");
    if (doc["version"].get<int64_t>() != conversation_version)
        corrupted(fmt::format("version {} is not the version this plugin writes ({})", doc["version"].dump(), conversation_version));
    Conversation c;
    c.plugin = string_member(doc, "plugin");
    if (c.plugin != plugin)
        throw ConfigError(fmt::format("request: the conversation belongs to the {} plugin, not {}: continue it with the "
                                      "loadout that started it",
                                      c.plugin, plugin));
    c.video = string_member(doc, "video");
    if (c.video.find('\0') != std::string::npos) // a C string would end there, naming another file
        corrupted("'video' contains a NUL character");
    c.loadout = string_member(doc, "loadout");
    c.media_key = string_member(doc, "media_key");
    if (c.media_key.size() != 64 || c.media_key.find_first_not_of("0123456789abcdef") != std::string::npos)
        corrupted("'media_key' is not a SHA-256 in hex");
    if (doc.contains("delivery")) {
        if (!doc["delivery"].is_string())
            corrupted("'delivery' is not a string");
        c.delivery = doc["delivery"].get<std::string>();
    }
    if (doc.contains("max_frames")) {
        if (!doc["max_frames"].is_number_integer() || doc["max_frames"].get<int64_t>() < 1)
            corrupted("'max_frames' is not a positive whole number");
        c.max_frames = doc["max_frames"].get<int64_t>();
    }
    if (!doc.contains("turns") || !doc["turns"].is_array() || doc["turns"].empty())
        corrupted("'turns' must list the questions and answers so far");
    for (const json& t : doc["turns"]) {
        if (!t.is_object() || !t.contains("prompt") || !t["prompt"].is_string() || !t.contains("answer") || !t["answer"].is_string())
            corrupted("every turn needs a 'prompt' and an 'answer' string");
        c.turns.push_back({t["prompt"].get<std::string>(), t["answer"].get<std::string>()});
    }
    return c;
}

std::string media_key(std::string_view plugin, const MediaInfo& media, const std::string& shaping)
{
    std::string identity;
    if (media.is_url) {
        identity = "url\n" + media.source;
    } else {
        namespace fs = std::filesystem;
        std::error_code ec;
        const fs::path file = native_path(media.source);
        const auto mtime = fs::last_write_time(file, ec);
        identity = fmt::format("file\n{}\n{}\n{}", utf8_path(fs::absolute(file, ec).lexically_normal()), media.size_bytes,
                               ec ? 0 : mtime.time_since_epoch().count());
    }
    return sha256_hex(fmt::format("jarvis-vision media 1\n{}\n{}\n{}", plugin, identity, shaping));
}

std::optional<Conversation> continue_conversation(CallSetup& setup, std::string_view plugin)
{
    if (setup.request.conversation.is_null())
        return std::nullopt;
    Conversation c = parse_conversation(setup.request.conversation, plugin);
    if (!setup.request.video.empty() && setup.request.video != c.video)
        setup.warnings.push_back(fmt::format("the conversation is about '{}': video '{}' is ignored", c.video, setup.request.video));
    const Loadout asked = setup.loadout;
    setup.request.video = c.video;
    setup.loadout = parse_loadout(c.loadout);
    const Loadout& kept = setup.loadout;
    if (setup.request.loadout && (asked.model != kept.model || asked.fps != kept.fps || asked.max_frames != kept.max_frames ||
                                  asked.start_s != kept.start_s || asked.end_s != kept.end_s || asked.max_pixels != kept.max_pixels ||
                                  asked.seek != kept.seek || asked.delivery != kept.delivery))
        setup.warnings.push_back("the conversation keeps the model and sampling of its first question (" + c.loadout +
                                 "); this request's are ignored");
    if (c.max_frames)
        setup.loadout.max_frames = c.max_frames;
    // The context and the answer's length are this request's to choose (the loadout's, which sampled the video,
    // stay in the loadout, so that the frames come out the same), and so is streaming.
    setup.ctx = asked.ctx ? asked.ctx : kept.ctx;
    setup.max_tokens = asked.max_tokens.value_or(kept.max_tokens.value_or(default_max_tokens));
    setup.stream = setup.request.stream.value_or(asked.stream || kept.stream);
    return c;
}

std::string media_shaping(const CallSetup& setup, const ProviderConfig& config, std::string_view delivery)
{
    // max_frames also apart from the text: a conversation that had to reduce its frames sets it there.
    // skip_references too: the skipping is checked to change no pixel, but where that check would be wrong (another
    // FFmpeg) the frames decoded without it must not pass for the same media. A GPU's decoding likewise: its pictures
    // are the standard's, but another path (its surfaces, downloaded as NV12) reaches the JPEG encoder.
    return fmt::format("{}\nmax_frames={}\njpeg_quality={}\nskip_references={}\nhardware_decode={}\n{}", setup.loadout.text,
                       setup.loadout.max_frames.value_or(0), config.frames.jpeg_quality, config.frames.skip_references,
                       config.frames.hardware_decode, delivery);
}

bool is_media_cache_miss(std::string_view refusal)
{
    return refusal.find("Cache miss for") != std::string_view::npos && refusal.find("data is not provided") != std::string_view::npos;
}

Conversation extended_conversation(const std::optional<Conversation>& earlier, std::string_view plugin, const CallSetup& setup,
                                   const std::string& key, const std::string& answer, std::string_view delivery)
{
    Conversation c;
    if (earlier) {
        c = *earlier;
    } else {
        c.plugin = plugin;
        c.video = setup.request.video;
        c.loadout = setup.loadout.text;
        c.media_key = key;
        c.delivery = delivery;
    }
    c.turns.push_back({setup.request.prompt, answer});
    return c;
}

std::string media_part_uuid(const std::string& key, size_t index)
{
    return sha256_hex(fmt::format("{}:{}", key, index)).substr(0, 32);
}

json continued_messages(const json& first_content, const Conversation& c, const std::string& new_prompt, size_t skip_answers)
{
    json messages = json::array({{{"role", "user"}, {"content", first_content}}});
    for (size_t i = 0; i < c.turns.size(); ++i) {
        if (i > 0)
            messages.push_back({{"role", "user"}, {"content", c.turns[i].prompt}});
        if (i >= skip_answers)
            messages.push_back({{"role", "assistant"}, {"content", c.turns[i].answer}});
    }
    messages.push_back({{"role", "user"}, {"content", new_prompt}});
    return messages;
}

int64_t earlier_turn_tokens(const Conversation& c, size_t skip_answers)
{
    // The messages between the first question and the latest one, as continued_messages lays them out.
    int64_t tokens = 0;
    for (size_t i = 0; i < c.turns.size(); ++i) {
        if (i > 0)
            tokens += qwen::message_tokens("user", c.turns[i].prompt);
        if (i >= skip_answers)
            tokens += qwen::message_tokens("assistant", c.turns[i].answer);
    }
    return tokens;
}

size_t answers_to_skip(const Conversation& c, int64_t base_tokens, int64_t max_tokens, int64_t ctx)
{
    // Each message counted once: the questions always go, the answers from `skip` on.
    const int64_t questions = earlier_turn_tokens(c, c.turns.size());
    std::vector<int64_t> answers_from(c.turns.size() + 1, 0);
    for (size_t i = c.turns.size(); i-- > 0;)
        answers_from[i] = answers_from[i + 1] + qwen::message_tokens("assistant", c.turns[i].answer);
    for (size_t skip = 0; skip <= c.turns.size(); ++skip)
        if (base_tokens + questions + answers_from[skip] + max_tokens <= ctx)
            return skip;
    throw ConfigError(fmt::format("the conversation no longer fits ctx={}: the video and its questions need {} tokens with "
                                  "no earlier answer, plus max_tokens={}; start a new conversation, or raise ctx",
                                  ctx, base_tokens + questions, max_tokens));
}

} // namespace jarvis
