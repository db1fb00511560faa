#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace jarvis::host {

// The stage and percentage of a long plan or ask, on one line of stderr that rewrites itself, only when stderr is a
// terminal (pipes and logs stay clean). Erased when the work is done, so that the answer and errors start on a
// clean line.
class ProgressLine
{
public:
    ProgressLine();
    ~ProgressLine();
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

    // `fraction` in [0, 1], or negative when the stage cannot say how far it is.
    void show(std::string_view stage, double fraction);
    // Erases the line (before the answer is printed).
    void clear();

private:
    bool terminal_ = false;
    bool shown_ = false;
    std::string last_;
    std::chrono::steady_clock::time_point last_time_{};
};

} // namespace jarvis::host
