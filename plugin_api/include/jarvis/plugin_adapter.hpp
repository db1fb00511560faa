// For plugin authors: turns a C++ provider class into the C table of vision_provider.h, so that no plugin writes
// that glue itself. A plugin writes
//
//     class MyProvider {
//     public:
//         MyProvider(jarvis::plugin::Host host, std::string_view config_json);
//         std::string plan(std::string_view request_json, jarvis::plugin::Call& call);  // returns the result JSON
//         std::string ask(std::string_view request_json, jarvis::plugin::Call& call);
//         // optional (ABI 1.1): the host's commands that need the plugin's code (vllm_command, vram, probe)
//         std::string tool(std::string_view request_json, jarvis::plugin::Call& call);
//     };
//     JARVIS_VISION_PLUGIN(MyProvider, "my_plugin", "1.0.0")
//
// and throws jarvis::plugin::Error (or anything else) to fail. No exception ever crosses the boundary: each entry
// point catches everything and turns it into a status code and a message in the host's jv_error.
#pragma once

#include <jarvis/vision_error.hpp>
#include <jarvis/vision_provider.h>

#include <jarvis/forced_unwind.hpp>

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

namespace jarvis::plugin {

// The failure a provider reports: a status from vision_provider.h and a one-line message.
using Error = vision::Error;

// What the host lent the provider: its log callback.
class Host
{
public:
    explicit Host(const jv_host* host)
    {
        if (host == nullptr)
            return;
        // Copy only what the host's struct covers: an older host may hand us a shorter struct.
        std::memcpy(&host_, host, std::min<size_t>(host->struct_size, sizeof host_));
        host_.struct_size = sizeof host_;
    }

    bool wants(int32_t level) const noexcept { return host_.log != nullptr && level >= host_.min_log_level; }

    void log(int32_t level, std::string_view message) const
    {
        if (wants(level))
            host_.log(host_.user_data, level, message.data(), message.size());
    }

private:
    jv_host host_{};
};

// What the host lent one plan or ask call.
class Call
{
public:
    explicit Call(const jv_callbacks* callbacks)
    {
        if (callbacks == nullptr)
            return;
        std::memcpy(&callbacks_, callbacks, std::min<size_t>(callbacks->struct_size, sizeof callbacks_));
        callbacks_.struct_size = sizeof callbacks_;
    }

    void text(std::string_view utf8) const
    {
        if (callbacks_.on_text != nullptr && !utf8.empty())
            callbacks_.on_text(callbacks_.user_data, utf8.data(), utf8.size());
    }
    void progress(const char* stage, double fraction) const
    {
        if (callbacks_.on_progress != nullptr)
            callbacks_.on_progress(callbacks_.user_data, stage, fraction);
    }
    bool cancelled() const { return callbacks_.is_cancelled != nullptr && callbacks_.is_cancelled(callbacks_.user_data) != 0; }
    // Throws the cancellation error when the host asked to stop; call it between units of work.
    void throw_if_cancelled() const
    {
        if (cancelled())
            throw Error(JV_E_CANCELLED, "cancelled");
    }
    void result(std::string_view json) const
    {
        if (callbacks_.on_result != nullptr)
            callbacks_.on_result(callbacks_.user_data, json.data(), json.size());
    }
    // The same call's cancellation without its output: for work a provider does inside a call whose text and
    // progress are not the host's to see (the probe's own asks).
    Call quiet() const
    {
        Call c(nullptr);
        c.callbacks_.struct_size = sizeof c.callbacks_;
        c.callbacks_.user_data = callbacks_.user_data;
        c.callbacks_.is_cancelled = callbacks_.is_cancelled;
        return c;
    }

private:
    jv_callbacks callbacks_{};
};

namespace detail {

inline void fill_error(jv_error* error, jv_status code, int http_status, std::string_view message) noexcept
{
    if (error == nullptr)
        return;
    if (JV_HAS_MEMBER(jv_error, error, code))
        error->code = code;
    if (JV_HAS_MEMBER(jv_error, error, http_status))
        error->http_status = http_status;
    if (JV_HAS_MEMBER(jv_error, error, message_length))
        error->message_length = static_cast<uint32_t>(message.size());
    if (JV_HAS_MEMBER(jv_error, error, message)) {
        const size_t n = std::min(message.size(), sizeof error->message - 1);
        std::memcpy(error->message, message.data(), n);
        error->message[n] = '\0';
    }
}

// Runs body; turns every exception into a status and a message. Not noexcept, and the forced unwind of a thread
// being ended (pthread_exit, pthread_cancel; Python ends daemon threads that call back into it during interpreter
// exit this way) is rethrown: swallowing it or meeting a noexcept frame aborts the whole process.
template <class Body>
jv_status guarded(jv_error* error, Body&& body)
{
    try {
        body();
        return JV_OK;
    } catch (const Error& e) {
        fill_error(error, e.code(), e.http_status(), e.what());
        return e.code();
    } catch (const std::bad_alloc&) {
        fill_error(error, JV_E_INTERNAL, 0, "out of memory");
    } catch (const std::exception& e) {
        fill_error(error, JV_E_INTERNAL, 0, std::string("internal error: ") + e.what());
    } catch (...) {
        if (caught_foreign_exception())
            throw;
        fill_error(error, JV_E_INTERNAL, 0, "internal error: unknown exception");
    }
    return JV_E_INTERNAL;
}

template <class Provider>
struct Entry
{
    static Provider* self(jv_provider* p) { return reinterpret_cast<Provider*>(p); }

    static jv_status create(const jv_host* host, const char* config_json, jv_provider** out, jv_error* error)
    {
        return guarded(error, [&] {
            if (out == nullptr)
                throw Error(JV_E_INVALID_ARGUMENT, "create: out must not be NULL");
            *out = nullptr;
            auto* provider = new Provider(Host(host), config_json != nullptr ? config_json : "{}");
            *out = reinterpret_cast<jv_provider*>(provider);
        });
    }

    static void destroy(jv_provider* provider) noexcept
    {
        try {
            delete self(provider);
        } catch (...) {
            // A destructor that throws has nowhere to report to; swallowing keeps the host alive.
        }
    }

    template <std::string (Provider::*Method)(std::string_view, Call&)>
    static jv_status run(jv_provider* provider, const char* request_json, const jv_callbacks* callbacks,
                         jv_error* error)
    {
        return guarded(error, [&] {
            if (provider == nullptr || request_json == nullptr)
                throw Error(JV_E_INVALID_ARGUMENT, "provider and request_json must not be NULL");
            Call call(callbacks);
            const std::string result = (self(provider)->*Method)(request_json, call);
            call.result(result);
        });
    }
};

template <class Provider>
constexpr auto tool_entry()
{
    if constexpr (requires(Provider& p, std::string_view r, Call& c) { p.tool(r, c); })
        return &Entry<Provider>::template run<&Provider::tool>;
    else
        return static_cast<jv_status (*)(jv_provider*, const char*, const jv_callbacks*, jv_error*)>(nullptr);
}

template <class Provider>
constexpr jv_plugin make_table(const char* name, const char* version)
{
    using E = Entry<Provider>;
    return jv_plugin{
        sizeof(jv_plugin),
        JV_ABI_MAJOR,
        JV_ABI_MINOR,
        name,
        version,
        &E::create,
        &E::destroy,
        &E::template run<&Provider::plan>,
        &E::template run<&Provider::ask>,
        tool_entry<Provider>(),
    };
}

} // namespace detail
} // namespace jarvis::plugin

// Defines the plugin's one exported symbol. Use once per plugin, at namespace scope.
#define JARVIS_VISION_PLUGIN(ProviderClass, plugin_name, plugin_version)                                      \
    extern "C" JV_PLUGIN_EXPORT const struct jv_plugin* jarvis_vision_plugin(uint32_t abi_major)               \
    {                                                                                                          \
        static constexpr struct jv_plugin table =                                                              \
            ::jarvis::plugin::detail::make_table<ProviderClass>(plugin_name, plugin_version);                  \
        return abi_major == JV_ABI_MAJOR ? &table : nullptr;                                                   \
    }
