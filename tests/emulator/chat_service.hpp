#pragma once

#include "emulator_options.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace jarvis::emulator {

// The answer to one /v1/chat/completions request, before it goes on the wire.
struct ChatReply
{
    int status = 200;
    nlohmann::json body;             // the whole response (non-streaming, or any error)
    bool stream = false;
    std::vector<nlohmann::json> chunks; // streaming: each chat.completion.chunk, in order ([DONE] is added on the wire)
    int content_chunks = 0;             // how many of those carry answer text
};

// What vLLM serving Qwen3-VL does with a chat request: parse the content parts, fetch and decode every image and
// video, sample and count them like Qwen3-VL, enforce the per-prompt limits and the context length, and answer with
// a JSON description of what was received.
class ChatService
{
public:
    explicit ChatService(EmulatorOptions options) : options_(std::move(options)) {}

    ChatReply handle(const std::string& request_body) const;
    nlohmann::json models() const;

private:
    EmulatorOptions options_;
};

} // namespace jarvis::emulator
