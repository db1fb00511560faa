#include "core/call_relay.hpp"

namespace jarvis {
namespace {

jv_callbacks relay_callbacks(void* relay, void (*progress)(void*, const char*, double), int32_t (*cancelled)(void*))
{
    jv_callbacks callbacks{};
    callbacks.struct_size = sizeof callbacks;
    callbacks.user_data = relay;
    callbacks.on_progress = progress;
    callbacks.is_cancelled = cancelled;
    return callbacks;
}

} // namespace

CallRelay::CallRelay() : worker_([this] {
    const jv_callbacks callbacks = relay_callbacks(this, &CallRelay::on_progress, &CallRelay::is_cancelled);
    return plugin::Call(&callbacks);
}())
{
}

void CallRelay::on_progress(void* self, const char* stage, double fraction)
{
    auto* relay = static_cast<CallRelay*>(self);
    std::lock_guard lock(relay->mutex_);
    relay->progress_ = std::make_pair(std::string(stage), fraction);
}

int32_t CallRelay::is_cancelled(void* self) { return static_cast<CallRelay*>(self)->stopped_ ? 1 : 0; }

void CallRelay::forward(const plugin::Call& host)
{
    if (host.cancelled())
        stopped_ = true;
    std::optional<std::pair<std::string, double>> progress;
    {
        std::lock_guard lock(mutex_);
        progress.swap(progress_);
    }
    if (progress)
        host.progress(progress->first.c_str(), progress->second);
}

} // namespace jarvis
