#include "http/sse_parser.hpp"

namespace jarvis {

void SseParser::feed(std::string_view bytes)
{
    // What is pending has no line end (earlier feeds looked): searching it again for each piece of a long line would
    // take time quadratic in the line's length.
    size_t from = pending_.size();
    pending_.append(bytes);
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', from)) != std::string::npos; start = from = nl + 1) {
        std::string_view text(pending_.data() + start, nl - start);
        if (!text.empty() && text.back() == '\r')
            text.remove_suffix(1);
        line(text);
    }
    pending_.erase(0, start);
}

void SseParser::line(std::string_view text)
{
    if (text.empty()) {
        if (has_data_)
            on_event_(data_);
        data_.clear();
        has_data_ = false;
        return;
    }
    if (text.rfind("data:", 0) != 0)
        return; // comments (":"), event:, id:, retry: carry nothing we use
    text.remove_prefix(5);
    if (!text.empty() && text.front() == ' ')
        text.remove_prefix(1);
    if (has_data_)
        data_ += '\n';
    data_.append(text);
    has_data_ = true;
}

std::string Utf8Joiner::take(std::string_view bytes)
{
    held_.append(bytes);
    // Find where the last sequence starts and whether it is complete.
    size_t end = held_.size();
    size_t i = end;
    int continuation = 0;
    while (i > 0 && continuation < 4 && (static_cast<unsigned char>(held_[i - 1]) & 0xC0) == 0x80) {
        --i;
        ++continuation;
    }
    if (i > 0) {
        const auto lead = static_cast<unsigned char>(held_[i - 1]);
        const int length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (length > 1 && continuation + 1 < length)
            end = i - 1; // the last sequence is not complete yet
    }
    std::string out = held_.substr(0, end);
    held_.erase(0, end);
    return out;
}

} // namespace jarvis
