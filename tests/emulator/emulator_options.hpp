#pragma once

#include "media_fetch.hpp"
#include "video_sampling.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace jarvis::emulator {

// Failures the emulator can be told to produce, for the client's error-path tests.
struct Faults
{
    int first_byte_delay_ms = 0;  // wait before answering a chat request
    int chunk_delay_ms = 0;       // wait between streamed chunks
    int drop_after_chunks = -1;   // close the connection mid-stream after this many content chunks
    int error_after_chunks = -1;  // send vLLM's mid-stream error event after this many content chunks
    int status = 0;               // answer every chat request with this status...
    std::string body;             // ...and this body, verbatim
    bool hang = false;            // never answer a chat request...
    int hang_limit_ms = -1;       // ...or not for this long, then close without an answer (-1: until stopped)
    int fail_first = 0;           // answer the first N chat requests with 503 (the retry tests)
    bool from_prompt = false;     // a request may choose its own: [fault:hang|drop|error|503|slow] in its text
};

// The faults in force for one request: the server's, and with from_prompt the request's own markers.
Faults faults_for_request(const Faults& server, const std::string& body);

struct EmulatorOptions
{
    std::string host = "127.0.0.1";
    int port = 8000; // 0: any free port
    std::string served_model_name = "QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ";
    FetchPolicy fetch;
    nlohmann::json limit_mm_per_prompt = nlohmann::json::object(); // modality -> count; unlisted: 999
    nlohmann::json media_io_kwargs = nlohmann::json::object();     // modality -> kwargs
    int64_t max_model_len = 262144;
    VideoLoader loader = VideoLoader::qwen3_vl;
    // vLLM's multimodal processor cache, keyed by media uuid (or content hash); 0 turns it off.
    double mm_processor_cache_gb = 4;
    int answer_padding_bytes = 0; // a long answer: adds a "padding" member of this many bytes of mixed-script text
    Faults faults;
};

// Parses vLLM's flags (and the emulator's own). Throws std::invalid_argument with a one-line message.
EmulatorOptions parse_emulator_options(const std::vector<std::string>& args);

const char* emulator_usage();

} // namespace jarvis::emulator
