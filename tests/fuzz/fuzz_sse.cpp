// libFuzzer: server-sent events cut anywhere. The first byte chooses where the input is cut into pieces; the
// events and the UTF-8 reassembly must come out the same as when fed whole. What each event says, and the input read as
// a whole answer, is read without an exception whatever JSON it holds.
#include "http/chat_answer_reading.hpp"
#include "http/sse_parser.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

std::vector<std::string> events_of(const std::string& bytes, size_t cut_every)
{
    std::vector<std::string> events;
    jarvis::SseParser parser([&](std::string_view data) { events.emplace_back(data); });
    for (size_t at = 0; at < bytes.size(); at += cut_every)
        parser.feed(std::string_view(bytes).substr(at, cut_every));
    return events;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size == 0)
        return 0;
    const size_t cut_every = 1 + data[0] % 16;
    const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::vector<std::string> events = events_of(bytes, bytes.size() + 1);
    if (events_of(bytes, cut_every) != events)
        std::abort(); // cutting changed what was parsed
    for (const std::string& event : events) {
        const jarvis::StreamEvent read = jarvis::read_stream_event(event);
        if (read.error_status && (*read.error_status < 100 || *read.error_status > 599))
            std::abort(); // no HTTP status
    }
    (void)jarvis::read_whole_answer(bytes);

    jarvis::Utf8Joiner joiner;
    std::string joined;
    for (size_t at = 0; at < bytes.size(); at += cut_every)
        joined += joiner.take(std::string_view(bytes).substr(at, cut_every));
    if (joined + joiner.held() != bytes)
        std::abort(); // bytes were lost or invented
    return 0;
}
