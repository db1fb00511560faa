#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace jarvis {

// A request body that one thread writes while another sends it: chunks appended in order, then finished, or failed
// (the sender then aborts the request, so that the server never takes a short body for a whole one). Every chunk is
// kept until the body is destroyed, so that a request tried again sends the same body from its start.
class StreamedBody
{
public:
    using Clock = std::chrono::steady_clock;
    enum class State { data, waiting, end, failed };

    // Where one reading of the body stands.
    struct Cursor
    {
        size_t chunk = 0;
        size_t offset = 0;
    };

    void append(std::string chunk);
    void finish();
    void fail(std::exception_ptr failure);

    // Copies up to `size` bytes at the cursor and moves it on. Returns the bytes copied, and `data`, or no bytes and
    // whether more are to come (`waiting`), the body is whole (`end`) or it failed.
    std::pair<size_t, State> read(Cursor& cursor, char* out, size_t size);
    // Whether a read at the cursor would not wait.
    bool readable(const Cursor& cursor) const;

    std::exception_ptr failure() const;
    std::optional<Clock::time_point> finished_at() const;

    // Called whenever the body grows, is finished or fails (on the writing thread, while the body is locked: it must
    // only wake the sender). Set it to nothing before what it wakes is gone.
    void on_change(std::function<void()> wake);

private:
    mutable std::mutex mutex_;
    std::vector<std::string> chunks_;
    std::optional<Clock::time_point> finished_at_;
    std::exception_ptr failure_;
    std::function<void()> wake_;
};

} // namespace jarvis
