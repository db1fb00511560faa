// For C++ hosts: a header-only RAII wrapper over vision_provider.h.
//
// A Plugin is a validated jv_plugin table held by a shared_ptr whose owner keeps the library loaded (the loader
// builds it with shared_ptr's aliasing constructor). A Provider keeps that pointer, so the library stays mapped
// while any provider created from it lives. Failures become jarvis::vision::Error on the host's side only.
#pragma once

#include <jarvis/vision_error.hpp>
#include <jarvis/vision_provider.h>

#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace jarvis::vision {

// Why a library is not a usable plugin; thrown by Plugin::from_table and by loaders.
class LoadError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

class Plugin
{
public:
    // Validates a table returned by a plugin's entry point. The table must cover every member this host uses.
    static Plugin from_table(std::shared_ptr<const jv_plugin> table)
    {
        if (!table)
            throw LoadError("the plugin refuses ABI major " + std::to_string(JV_ABI_MAJOR) + " (its entry point returned NULL)");
        if (table->struct_size < offsetof(jv_plugin, ask) + sizeof(table->ask))
            throw LoadError("its table is " + std::to_string(table->struct_size) + " bytes, smaller than the " +
                            std::to_string(offsetof(jv_plugin, ask) + sizeof(table->ask)) + " this host needs");
        if (table->abi_major != JV_ABI_MAJOR)
            throw LoadError("it implements ABI major " + std::to_string(table->abi_major) + ", this host needs " +
                            std::to_string(JV_ABI_MAJOR));
        if (table->name == nullptr || table->version == nullptr || table->create == nullptr ||
            table->destroy == nullptr || table->plan == nullptr || table->ask == nullptr)
            throw LoadError("its table leaves a required member empty");
        return Plugin(std::move(table));
    }

    std::string name() const { return table_->name; }
    std::string version() const { return table_->version; }
    std::string abi() const { return std::to_string(table_->abi_major) + "." + std::to_string(table_->abi_minor); }
    const std::shared_ptr<const jv_plugin>& table() const { return table_; }

private:
    explicit Plugin(std::shared_ptr<const jv_plugin> table) : table_(std::move(table)) {}
    std::shared_ptr<const jv_plugin> table_;
};

// Receives everything a call produces. Unset members are not called.
struct CallHandlers
{
    std::function<void(std::string_view)> on_text;
    std::function<void(std::string_view stage, double fraction)> on_progress;
    std::function<bool()> is_cancelled;
};

using LogHandler = std::function<void(int32_t level, std::string_view message)>;

namespace detail {
// Calls the plugin's destroy; a namespace-scope type so that unique_ptr can default-construct it.
struct DestroyProvider
{
    void (*destroy)(jv_provider*) = nullptr;
    void operator()(jv_provider* p) const
    {
        if (destroy != nullptr)
            destroy(p);
    }
};
} // namespace detail

class Provider
{
public:
    Provider(const Plugin& plugin, const std::string& config_json, LogHandler log = {},
             int32_t min_log_level = JV_LOG_INFO)
        : table_(plugin.table()), log_(std::make_unique<LogBridge>(std::move(log), min_log_level))
    {
        jv_error error = empty_error();
        jv_provider* handle = nullptr;
        const jv_status status = table_->create(&log_->host, config_json.c_str(), &handle, &error);
        if (status != JV_OK)
            throw Error(status, error.message, error.http_status);
        handle_ = std::unique_ptr<jv_provider, detail::DestroyProvider>(handle, detail::DestroyProvider{table_->destroy});
    }

    // Builds the request without sending it; returns the plan document.
    std::string plan(const std::string& request_json, const CallHandlers& handlers = {})
    {
        return call(table_->plan, request_json, handlers);
    }

    // Sends the request; the answer streams through handlers.on_text; returns the result document.
    std::string ask(const std::string& request_json, const CallHandlers& handlers = {})
    {
        return call(table_->ask, request_json, handlers);
    }

    // ABI 1.1: runs one of the plugin's host tools ({"tool": "vllm_command" | "vram" | "probe", ...}); returns its
    // result document. Throws JV_E_INVALID_ARGUMENT when the plugin is older than 1.1 or has no tools.
    std::string tool(const std::string& request_json, const CallHandlers& handlers = {})
    {
        if (!has_tools())
            throw Error(JV_E_INVALID_ARGUMENT, std::string("plugin ") + table_->name + " (ABI " + std::to_string(table_->abi_major) +
                                                   "." + std::to_string(table_->abi_minor) + ") has no host tools");
        return call(table_->tool, request_json, handlers);
    }
    bool has_tools() const { return JV_HAS_MEMBER(jv_plugin, table_.get(), tool) && table_->tool != nullptr; }

    const jv_plugin& table() const { return *table_; }

private:
    using Function = jv_status (*)(jv_provider*, const char*, const jv_callbacks*, jv_error*);

    struct LogBridge
    {
        LogBridge(LogHandler h, int32_t min_level) : handler(std::move(h))
        {
            host.struct_size = sizeof host;
            host.user_data = this;
            host.log = handler ? &LogBridge::forward : nullptr;
            host.min_log_level = min_level;
        }
        static void forward(void* self, int32_t level, const char* message, size_t length)
        {
            try {
                static_cast<LogBridge*>(self)->handler(level, std::string_view(message, length));
            } catch (...) {
                // A host's log handler must not unwind through the plugin's C frames.
            }
        }
        LogHandler handler;
        jv_host host{};
    };

    struct CallState
    {
        const CallHandlers* handlers;
        std::string result;
        bool failed_in_handler = false;
        std::string handler_error;

        template <class F>
        void guard(F&& f) noexcept
        {
            try {
                f();
            } catch (const std::exception& e) {
                failed_in_handler = true;
                handler_error = e.what();
            } catch (...) {
                failed_in_handler = true;
            }
        }
        static void on_result(void* s, const char* json, size_t n)
        {
            auto* self = static_cast<CallState*>(s);
            self->guard([&] { self->result.assign(json, n); });
        }
        static void on_text(void* s, const char* text, size_t n)
        {
            auto* self = static_cast<CallState*>(s);
            if (self->handlers->on_text)
                self->guard([&] { self->handlers->on_text(std::string_view(text, n)); });
        }
        static void on_progress(void* s, const char* stage, double fraction)
        {
            auto* self = static_cast<CallState*>(s);
            if (self->handlers->on_progress)
                self->guard([&] { self->handlers->on_progress(stage != nullptr ? stage : "", fraction); });
        }
        static int32_t is_cancelled(void* s)
        {
            auto* self = static_cast<CallState*>(s);
            // A handler that threw cannot take more output: stop the call.
            if (self->failed_in_handler)
                return 1;
            bool cancelled = false;
            if (self->handlers->is_cancelled)
                self->guard([&] { cancelled = self->handlers->is_cancelled(); });
            return cancelled ? 1 : 0;
        }
    };

    static jv_error empty_error()
    {
        jv_error error;
        std::memset(&error, 0, sizeof error);
        error.struct_size = sizeof error;
        return error;
    }

    std::string call(Function function, const std::string& request_json, const CallHandlers& handlers)
    {
        CallState state{&handlers, {}, false, {}};
        jv_callbacks callbacks{};
        callbacks.struct_size = sizeof callbacks;
        callbacks.user_data = &state;
        callbacks.on_result = &CallState::on_result;
        callbacks.on_text = &CallState::on_text;
        callbacks.on_progress = &CallState::on_progress;
        callbacks.is_cancelled = &CallState::is_cancelled;
        jv_error error = empty_error();
        const jv_status status = function(handle_.get(), request_json.c_str(), &callbacks, &error);
        if (state.failed_in_handler)
            throw Error(JV_E_INTERNAL, "a host callback failed: " + state.handler_error);
        if (status != JV_OK)
            throw Error(status, error.message, error.http_status);
        return std::move(state.result);
    }

    // Declaration order is destruction order reversed: the provider is destroyed first, then the log bridge it
    // may call, and the library (held by table_) last.
    std::shared_ptr<const jv_plugin> table_;
    std::unique_ptr<LogBridge> log_;
    std::unique_ptr<jv_provider, detail::DestroyProvider> handle_;
};

} // namespace jarvis::vision
