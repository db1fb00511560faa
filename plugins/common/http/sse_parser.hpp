#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace jarvis {

// Reassembles server-sent events from bytes that arrive cut anywhere (mid-line, mid-character) and hands each
// event's data to a callback once its blank line arrives. Only "data:" fields matter for OpenAI-style streams.
class SseParser
{
public:
    explicit SseParser(std::function<void(std::string_view data)> on_event) : on_event_(std::move(on_event)) {}

    void feed(std::string_view bytes);

    // The bytes held for an event not finished yet (its data lines and an unfinished line): a server that never
    // ends an event would make this grow without end.
    size_t unfinished_bytes() const { return pending_.size() + data_.size(); }

private:
    void line(std::string_view text);

    std::function<void(std::string_view)> on_event_;
    std::string pending_; // bytes of an unfinished line
    std::string data_;    // data lines of the unfinished event
    bool has_data_ = false;
};

// Holds back the bytes of an unfinished UTF-8 sequence, so that every piece handed on is whole characters.
class Utf8Joiner
{
public:
    // Returns the longest prefix of (held bytes + bytes) that ends on a character boundary; keeps the rest.
    std::string take(std::string_view bytes);
    // What is still held (an incomplete sequence at the end of the stream).
    const std::string& held() const { return held_; }

private:
    std::string held_;
};

} // namespace jarvis
