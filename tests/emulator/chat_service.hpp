#pragma once

#include "emulator_options.hpp"
#include "processor_cache.hpp"

#include <nlohmann/json.hpp>

#include <memory>
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
    // What the server did with the media and how much of the prompt the previous request's began with, for the log
    // (not the answer: the same request gets the same answer, as from a model at temperature 0).
    nlohmann::json report;
};

// What vLLM serving Qwen3-VL does with a chat request: parse the content parts, fetch and decode every image and
// video, sample and count them like Qwen3-VL, enforce the per-prompt limits and the context length, and answer with
// a JSON description of what was received.
class ChatService
{
public:
    explicit ChatService(EmulatorOptions options)
        : options_(std::move(options)), cache_(std::make_shared<ProcessorCache>(options_.mm_processor_cache_gb)),
          prefix_(std::make_shared<PrefixTracker>())
    {
    }

    ChatReply handle(const std::string& request_body) const;
    nlohmann::json models() const;

private:
    EmulatorOptions options_;
    // Shared state of a server that handles requests on many threads (each is thread-safe).
    std::shared_ptr<ProcessorCache> cache_;
    std::shared_ptr<PrefixTracker> prefix_;
};

} // namespace jarvis::emulator
