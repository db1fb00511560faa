#pragma once

#include "http/chat_client.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace jarvis {

// What a server's answer says, read from any JSON it sends: a shape other than a chat completion's (a proxy's, a
// damaged one) reads as saying nothing, never as an exception.

// One server-sent event of a streamed chat completion.
struct StreamEvent
{
    bool done = false;                  // "[DONE]"
    std::optional<int> error_status;    // an error event: the HTTP status it names, 500 when it names none
    std::string error_message;          // and its message
    nlohmann::json usage;               // null when the event gives none
    std::optional<std::string> finish_reason;
    std::string content;                // the text it adds
};
StreamEvent read_stream_event(std::string_view data);

// A whole chat completion (not streamed); nothing when the body holds no choice object.
std::optional<ChatAnswer> read_whole_answer(const std::string& body);

// The HTTP status an error names: an integer (vLLM) or a string of digits (proxies: LiteLLM); 500 for anything else,
// or a number that is no status.
int error_status_of(const nlohmann::json& error);

// The message inside an error body: vLLM's nested {"error": {"message"}}, the older flat {"message"}, or the
// body's text itself when it is not JSON (a proxy's HTML page).
std::string server_error_message(const std::string& body);

} // namespace jarvis
