// What the emulator and media-server fuzz targets do with one input, shared with the tests that replay every input
// a fuzzer once crashed on (tests/fuzz/regressions/<target>/).
#pragma once

#include "chat_service.hpp"
#include "media_fetch.hpp"
#include "api_error.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace jarvis::fuzz {

namespace detail {

// True when some string in the document names a URL other than data: (the emulator would go to the network or the
// disk for it, which is not what this target is about and would make it slow).
inline bool names_a_fetchable_url(const nlohmann::json& j)
{
    if (j.is_string()) {
        const auto& s = j.get_ref<const std::string&>();
        return s.find("://") != std::string::npos;
    }
    if (j.is_structured())
        for (const auto& item : j)
            if (names_a_fetchable_url(item))
                return true;
    return false;
}

} // namespace detail

// A chat request as vLLM would receive it, media in data: URLs: the emulator answers every one with a status and a
// body (never throws, never crashes), and a 200 has the usage vLLM reports. Inputs not starting with '{' go to the
// data-URL and base64 parsers alone, which may only fail with the API's own error.
inline void emulator_request(const uint8_t* data, size_t size)
{
    const std::string input(reinterpret_cast<const char*>(data), size);
    if (input.empty() || input.front() != '{') {
        for (const std::string& url : {input, "data:" + input}) {
            try {
                const emulator::DataUrl parsed = emulator::parse_data_url(url);
                (void)emulator::decode_base64(parsed.payload);
            } catch (const emulator::ApiError&) {
            }
        }
        return;
    }
    const nlohmann::json parsed = nlohmann::json::parse(input, nullptr, false);
    if (!parsed.is_discarded() && detail::names_a_fetchable_url(parsed))
        return;
    static const emulator::ChatService service = [] {
        emulator::EmulatorOptions options;
        options.max_model_len = 32768;
        options.mm_processor_cache_gb = 0.01;
        return emulator::ChatService(options);
    }();
    const emulator::ChatReply reply = service.handle(input);
    if (reply.status < 200 || reply.status > 599)
        std::abort();
    if (reply.status == 200 && !reply.stream && !reply.body.contains("usage"))
        std::abort();
    if (reply.status != 200 && !reply.body.contains("error"))
        std::abort();
}

} // namespace jarvis::fuzz
