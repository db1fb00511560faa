#include "progress_line.hpp"

#include "platform/console.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace jarvis::host {

ProgressLine::ProgressLine() : terminal_(stderr_is_terminal()) {}

ProgressLine::~ProgressLine() { clear(); }

void ProgressLine::show(std::string_view stage, double fraction)
{
    if (!terminal_)
        return;
    const std::string text = fraction < 0 ? fmt::format("{}...", stage) : fmt::format("{} {:3.0f}%", stage, fraction * 100);
    const auto now = std::chrono::steady_clock::now();
    // A few updates a second are readable; each stage change is shown at once.
    if (text == last_ || (last_.starts_with(stage) && now - last_time_ < std::chrono::milliseconds(100)))
        return;
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    std::fflush(stderr);
    last_ = text;
    last_time_ = now;
    shown_ = true;
}

void ProgressLine::clear()
{
    if (!shown_)
        return;
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    shown_ = false;
    last_.clear();
}

} // namespace jarvis::host
