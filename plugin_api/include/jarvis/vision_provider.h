/*
 * The jarvis-vision plugin ABI, version 1.
 *
 * A plugin is a shared library exporting exactly one symbol, jarvis_vision_plugin(). It returns a table of
 * functions (struct jv_plugin) through which a host creates providers, asks them to plan or send a request about a
 * video, and destroys them. Hosts are written in C++ (jarvis-host, through jarvis/vision_provider.hpp) and in Python
 * (ctypes, bindings/python): everything here is plain C so that both can use a plugin with nothing but this header.
 *
 * Stability rules
 *   - Every struct begins with uint32_t struct_size and is append-only. A new member goes at the end and raises
 *     JV_ABI_MINOR; a reader touches a member only when struct_size covers it (JV_HAS_MEMBER). Removing, inserting
 *     or reordering anything is a new JV_ABI_MAJOR. CI compares this header's ABI with a committed baseline.
 *   - No exceptions, no C++ types and no heap ownership cross the boundary. Inputs are borrowed for the duration of
 *     the call. Outputs reach the host through callbacks whose arguments are borrowed for the duration of the
 *     callback: the host copies what it keeps. Errors are a status code plus a message written into a
 *     caller-provided jv_error.
 *   - Text is UTF-8. Pointer-plus-length pieces of answer text always hold whole UTF-8 sequences.
 *
 * Threading
 *   - create and destroy of one provider must not run concurrently with any other call on that provider.
 *   - plan and ask on one provider may run concurrently from several host threads.
 *   - Callbacks of a call are invoked on the thread that made the call, never after the call has returned.
 *   - The log callback of jv_host may be invoked from any thread the plugin uses; it must be thread-safe.
 *
 * JSON documents (all UTF-8, NUL-terminated)
 *   - create's config_json: the host's resolved configuration (docs/contract.md: endpoint, loadout, input_data, ...).
 *   - plan/ask request_json: {"video": SRC, "prompt": TEXT, "loadout": STR (optional, overrides the
 *     configuration's), "stream": BOOL (ask only: request a streamed answer)}.
 *   - on_result: plan delivers {"plugin", "endpoint", "request", "media", "estimate", "warnings"}, ask delivers
 *     {"answer", "usage", "timings", "plugin", "media", ...} (docs/contract.md).
 */
#ifndef JARVIS_VISION_PROVIDER_H
#define JARVIS_VISION_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JV_ABI_MAJOR 1u
#define JV_ABI_MINOR 1u

/* The name of the one symbol a plugin exports. */
#define JV_ENTRY_POINT_NAME "jarvis_vision_plugin"

/* True when the struct pointed to by p, whose struct_size the other side filled in, covers member m. */
#define JV_HAS_MEMBER(type, p, m) \
    ((p) != NULL && (size_t)(p)->struct_size >= offsetof(type, m) + sizeof(((type *)0)->m))

/* Status codes. Each maps to one of jarvis-host's exit codes (docs/contract.md). */
typedef int32_t jv_status;
#define JV_OK 0
#define JV_E_INVALID_ARGUMENT 1 /* bad configuration, loadout or request (exit 2)             */
#define JV_E_MEDIA 2            /* the video cannot be used: missing, unreadable, no video (exit 3) */
#define JV_E_UNREACHABLE 3      /* the server cannot be reached (exit 4)                      */
#define JV_E_REFUSED 4          /* the server refused the request; message verbatim (exit 5)  */
#define JV_E_TIMEOUT 5          /* timed out (exit 6)                                         */
#define JV_E_CANCELLED 6        /* the host's is_cancelled callback asked to stop (exit 130)  */
#define JV_E_INTERNAL 7         /* a failure inside the plugin (exit 1)                       */

/* Log levels for jv_host.log. */
#define JV_LOG_TRACE 0
#define JV_LOG_DEBUG 1
#define JV_LOG_INFO 2
#define JV_LOG_WARN 3
#define JV_LOG_ERROR 4

#define JV_ERROR_MESSAGE_SIZE 2048

/* Caller-allocated; the plugin fills it when a call fails. */
typedef struct jv_error {
    uint32_t struct_size;    /* set by the caller: sizeof(jv_error)                                 */
    jv_status code;          /* equals the returned status                                         */
    int32_t http_status;     /* the server's HTTP status when it answered with an error, else 0    */
    uint32_t message_length; /* length of the whole message; above the buffer it was truncated     */
    char message[JV_ERROR_MESSAGE_SIZE]; /* NUL-terminated, one line, names what failed and why    */
} jv_error;

/* What the host lends a provider for its whole life (it must outlive the provider). */
typedef struct jv_host {
    uint32_t struct_size;
    void *user_data;
    /* Receives the plugin's log lines; plugins write nothing to stdout or stderr. May be NULL. */
    void (*log)(void *user_data, int32_t level, const char *message, size_t length);
    int32_t min_log_level; /* lines below this level are not produced */
} jv_host;

/* What the host lends one plan or ask call. Any function pointer may be NULL. */
typedef struct jv_callbacks {
    uint32_t struct_size;
    void *user_data;
    /* The call's result document, once, just before a successful return. */
    void (*on_result)(void *user_data, const char *json, size_t length);
    /* Answer text as it arrives (ask). */
    void (*on_text)(void *user_data, const char *utf8, size_t length);
    /* Progress of long work: a stage name and a fraction in [0, 1], or a negative fraction when unknown. */
    void (*on_progress)(void *user_data, const char *stage, double fraction);
    /* Polled during long work; non-zero makes the call stop soon and return JV_E_CANCELLED. */
    int32_t (*is_cancelled)(void *user_data);
} jv_callbacks;

/* A provider: one configured instance of a plugin's strategy. Opaque, owned by the plugin. */
typedef struct jv_provider jv_provider;

struct jv_plugin {
    uint32_t struct_size;
    uint32_t abi_major;
    uint32_t abi_minor;
    const char *name;    /* "native_video", "frame_slicer", ...; static storage */
    const char *version; /* the plugin's own version; static storage               */

    jv_status (*create)(const jv_host *host, const char *config_json, jv_provider **out, jv_error *error);
    void (*destroy)(jv_provider *provider);
    /* Builds the request without sending it; no side effects. */
    jv_status (*plan)(jv_provider *provider, const char *request_json, const jv_callbacks *callbacks,
                      jv_error *error);
    /* Builds and sends the request; the answer streams through on_text, the result through on_result. */
    jv_status (*ask)(jv_provider *provider, const char *request_json, const jv_callbacks *callbacks,
                     jv_error *error);
    /* ABI 1.1: the host commands that need the plugin's code, so that hosts need none of it. request_json is
     * {"tool": "vllm_command" | "vram" | "probe", ...options}; the result document arrives through on_result.
     * NULL when the plugin has no tools; a host reads it only when struct_size covers it (JV_HAS_MEMBER). */
    jv_status (*tool)(jv_provider *provider, const char *request_json, const jv_callbacks *callbacks,
                      jv_error *error);
    /* ABI 1.x: append new members below this line only. */
};

/* The entry point. Returns NULL when the plugin does not implement abi_major. */
typedef const struct jv_plugin *(*jv_entry_point)(uint32_t abi_major);

#if defined(_WIN32)
#define JV_PLUGIN_EXPORT __declspec(dllexport)
#else
#define JV_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
}
#endif

#endif /* JARVIS_VISION_PROVIDER_H */
