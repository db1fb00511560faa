#pragma once

#include "config/provider_config.hpp"
#include "core/call_setup.hpp"
#include "media/media_source.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jarvis {

inline constexpr int conversation_version = 1;

struct ConversationTurn
{
    std::string prompt;
    std::string answer;
};

// What a host keeps between the questions about one video: an ask result's "conversation", handed back in the next
// request. It holds no media, only what rebuilds it: the video, the loadout that shaped it and the key its parts'
// uuids derive from (docs/contract.md, "Conversations").
struct Conversation
{
    std::string plugin;
    std::string video;
    std::string loadout;   // the loadout text of the first question: follow-ups keep its sampling
    std::string media_key; // hex
    std::string delivery;  // native_video: the delivery the first answer came through, which follow-ups keep
    std::optional<int64_t> max_frames; // set when the frames were reduced to fit the context; follow-ups keep it
    std::vector<ConversationTurn> turns;

    nlohmann::json to_json() const;
};

// Throws ConfigError for anything but a version-1 conversation of `plugin` (another plugin's, a corrupted one).
Conversation parse_conversation(const nlohmann::json& document, std::string_view plugin);

// The identity of a video's media parts: the plugin, the file (its absolute path, size and modification time) or
// URL, and `shaping` (everything that decides the parts' bytes: the loadout, the frames settings, the delivery).
// The same in every process; another file, an edited file or other settings give another key.
std::string media_key(std::string_view plugin, const MediaInfo& media, const std::string& shaping);

// The conversation a request continues, if it carries one, applied to the call: the conversation's video and
// loadout replace the request's (a warning says so when the request named others), so that follow-ups are sampled as
// the first question was. Throws ConfigError for another plugin's or a corrupted conversation.
std::optional<Conversation> continue_conversation(CallSetup& setup, std::string_view plugin);

// What, besides the video, decides the bytes of the media parts: the loadout and the frames settings, and `delivery`.
std::string media_shaping(const CallSetup& setup, const ProviderConfig& config, std::string_view delivery);

// The uuid of media part `index`: vLLM's multimodal caches (processor cache, prefix cache) key on it.
std::string media_part_uuid(const std::string& media_key, size_t index);

// Whether a server's refusal says that media sent by uuid alone is not in its cache (vLLM: "Cache miss for video at
// index 0 but data is not provided.").
bool is_media_cache_miss(std::string_view refusal);

// The conversation after this question is answered: `earlier` (or a new one) with the turn appended.
Conversation extended_conversation(const std::optional<Conversation>& earlier, std::string_view plugin, const CallSetup& setup,
                                   const std::string& media_key, const std::string& answer, std::string_view delivery = {});

// The messages of a continued conversation: the first question exactly as it was first sent (`first_content`, its
// parts in their order), then each answer and question in turn, then `new_prompt`. The `skip_answers` oldest
// answers are left out (to fit the context).
nlohmann::json continued_messages(const nlohmann::json& first_content, const Conversation& conversation,
                                  const std::string& new_prompt, size_t skip_answers);

// The text tokens the earlier turns add to a request (their questions after the first, their answers, the chat
// template of each message), answers from the `skip_answers`-th oldest on.
int64_t earlier_turn_tokens(const Conversation& conversation, size_t skip_answers);

// How many of the oldest answers must be left out so that a request of `base_tokens` (media and the first and new
// questions) plus the earlier turns plus `max_tokens` of answer fits `ctx`. Throws ConfigError when even leaving out
// every answer does not make it fit.
size_t answers_to_skip(const Conversation& conversation, int64_t base_tokens, int64_t max_tokens, int64_t ctx);

} // namespace jarvis
