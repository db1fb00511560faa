#pragma once

#include <jarvis/plugin_adapter.hpp>

#include <atomic>
#include <mutex>
#include <optional>
#include <string>

namespace jarvis {

// A Call for work done on another thread inside a call. The host's callbacks run only on the calling thread
// (docs/contract.md), so the worker's Call only records: its progress is handed to the host, and the host's
// cancellation to the worker, when the calling thread calls forward(). stop() cancels the worker by itself.
class CallRelay
{
public:
    CallRelay();
    CallRelay(const CallRelay&) = delete;
    CallRelay& operator=(const CallRelay&) = delete;

    // The worker's Call: valid while the relay lives.
    const plugin::Call& worker_call() const { return worker_; }

    // On the calling thread: the worker's latest progress to the host, the host's cancellation to the worker.
    void forward(const plugin::Call& host);
    void stop() { stopped_ = true; }

private:
    static void on_progress(void* self, const char* stage, double fraction);
    static int32_t is_cancelled(void* self);

    std::atomic<bool> stopped_{false};
    std::mutex mutex_;
    std::optional<std::pair<std::string, double>> progress_;
    plugin::Call worker_;
};

} // namespace jarvis
