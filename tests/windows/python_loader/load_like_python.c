/* Loads a plugin DLL the way the jarvis_vision package does inside a Windows Python (3.8 and later), so that the
 * Wine suite can check the package's layout without a Windows Python:
 *   - python.exe's folder holds none of our DLLs, and Python no longer searches PATH for a DLL's dependencies, so the
 *     package adds its folders with os.add_dll_directory (AddDllDirectory) and loads the plugin with ctypes.CDLL(path,
 *     winmode=LOAD_LIBRARY_SEARCH_DEFAULT_DIRS | LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR) (LoadLibraryExW), then closes the
 *     directory cookies (RemoveDllDirectory): _platform.load_library;
 *   - calls come from a thread Python started, not the one that loaded the DLL (asyncio.to_thread, a daemon thread),
 *     and are cancelled from another thread through the is_cancelled callback (task.cancel(), a threading.Event).
 * This program's own folder must hold no DLL of ours, as python.exe's does not.
 *
 * Usage: load_like_python.exe PLUGIN_DLL [--dll-dir DIR]... [--plan|--ask CONFIG_JSON_FILE REQUEST_JSON_FILE
 *        [--cancel-on-input]]
 * Prints the plugin's name, version and ABI as one JSON line, then the call's result document. With
 * --cancel-on-input, a line on standard input cancels the call. Exit codes: 0 done, 2 usage, 3 the DLL did not load
 * (the Windows error is printed), 4 not a plugin, and 10 + the plugin's status when the call failed. */
#include <jarvis/vision_provider.h>

#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

#define MAX_DLL_DIRS 8

static int print_windows_error(const char *what, const wchar_t *path)
{
    const DWORD code = GetLastError();
    char message[512] = "";
    FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code, 0, message, sizeof message,
                   NULL);
    fprintf(stderr, "load_like_python: %s '%ls' failed: error %lu: %s\n", what, path, (unsigned long)code, message);
    return (int)code;
}

/* The whole file as a NUL-terminated string; NULL when it cannot be read. */
static char *read_text(const wchar_t *path)
{
    FILE *file = _wfopen(path, L"rb");
    if (file == NULL)
        return NULL;
    char *text = NULL;
    if (fseek(file, 0, SEEK_END) == 0) {
        const long size = ftell(file);
        if (size >= 0 && fseek(file, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1)) != NULL) {
            if (fread(text, 1, (size_t)size, file) == (size_t)size) {
                text[size] = '\0';
            } else {
                free(text);
                text = NULL;
            }
        }
    }
    fclose(file);
    return text;
}

static void print_result(void *user_data, const char *json, size_t length)
{
    (void)user_data;
    fwrite(json, 1, length, stdout);
    fputc('\n', stdout);
}

static volatile LONG cancel_requested = 0;

static int32_t is_cancelled(void *user_data)
{
    (void)user_data;
    return InterlockedCompareExchange(&cancel_requested, 0, 0) != 0;
}

struct plugin_call
{
    const struct jv_plugin *plugin;
    int asks; /* ask, else plan */
    char *config;
    char *request;
    jv_status status;
    jv_error error;
};

static DWORD WINAPI run_call(void *argument)
{
    struct plugin_call *call = argument;
    const jv_host host = {sizeof(jv_host), NULL, NULL, JV_LOG_ERROR};
    call->error.struct_size = sizeof(jv_error);
    jv_provider *provider = NULL;
    call->status = call->plugin->create(&host, call->config, &provider, &call->error);
    if (call->status != JV_OK)
        return 0;
    const jv_callbacks callbacks = {sizeof(jv_callbacks), NULL, print_result, NULL, NULL, is_cancelled};
    call->status = (call->asks ? call->plugin->ask : call->plugin->plan)(provider, call->request, &callbacks, &call->error);
    call->plugin->destroy(provider);
    return 0;
}

int wmain(int argc, wchar_t **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: load_like_python PLUGIN_DLL [--dll-dir DIR]... [--plan|--ask CONFIG_FILE REQUEST_FILE "
                        "[--cancel-on-input]]\n");
        return 2;
    }
    const wchar_t *plugin_path = argv[1];
    const wchar_t *dll_dirs[MAX_DLL_DIRS];
    int dll_dir_count = 0;
    const wchar_t *config_path = NULL;
    const wchar_t *request_path = NULL;
    int asks = 0;
    int cancel_on_input = 0;
    for (int i = 2; i < argc; ++i) {
        if (wcscmp(argv[i], L"--dll-dir") == 0 && i + 1 < argc && dll_dir_count < MAX_DLL_DIRS) {
            dll_dirs[dll_dir_count++] = argv[++i];
        } else if ((wcscmp(argv[i], L"--plan") == 0 || wcscmp(argv[i], L"--ask") == 0) && i + 2 < argc) {
            asks = wcscmp(argv[i], L"--ask") == 0;
            config_path = argv[++i];
            request_path = argv[++i];
        } else if (wcscmp(argv[i], L"--cancel-on-input") == 0) {
            cancel_on_input = 1;
        } else {
            fprintf(stderr, "load_like_python: unexpected argument '%ls'\n", argv[i]);
            return 2;
        }
    }

    DLL_DIRECTORY_COOKIE cookies[MAX_DLL_DIRS];
    for (int i = 0; i < dll_dir_count; ++i) {
        cookies[i] = AddDllDirectory(dll_dirs[i]);
        if (cookies[i] == NULL) {
            print_windows_error("AddDllDirectory", dll_dirs[i]);
            return 3;
        }
    }
    HMODULE library = LoadLibraryExW(plugin_path, NULL, LOAD_LIBRARY_SEARCH_DEFAULT_DIRS | LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR);
    if (library == NULL) {
        print_windows_error("LoadLibraryExW", plugin_path);
        return 3;
    }
    /* Python closes the cookies as soon as the DLL is loaded: nothing may need them later. */
    for (int i = 0; i < dll_dir_count; ++i)
        RemoveDllDirectory(cookies[i]);

    const jv_entry_point entry = (jv_entry_point)(void (*)(void))GetProcAddress(library, "jarvis_vision_plugin");
    const struct jv_plugin *plugin = entry != NULL ? entry(JV_ABI_MAJOR) : NULL;
    if (plugin == NULL) {
        fprintf(stderr, "load_like_python: '%ls' is not a jarvis-vision plugin of ABI major %d\n", plugin_path, JV_ABI_MAJOR);
        return 4;
    }
    printf("{\"name\": \"%s\", \"version\": \"%s\", \"abi\": \"%u.%u\"}\n", plugin->name, plugin->version,
           (unsigned)plugin->abi_major, (unsigned)plugin->abi_minor);
    fflush(stdout);

    int exit_code = 0;
    if (config_path != NULL) {
        struct plugin_call call = {plugin, asks, read_text(config_path), read_text(request_path), JV_OK, {0}};
        if (call.config == NULL || call.request == NULL) {
            fprintf(stderr, "load_like_python: cannot read '%ls' or '%ls'\n", config_path, request_path);
            return 2;
        }
        HANDLE thread = CreateThread(NULL, 0, run_call, &call, 0, NULL);
        if (thread == NULL) {
            print_windows_error("CreateThread", plugin_path);
            return 1;
        }
        char line[64];
        if (cancel_on_input && fgets(line, sizeof line, stdin) != NULL)
            InterlockedExchange(&cancel_requested, 1);
        WaitForSingleObject(thread, INFINITE);
        CloseHandle(thread);
        if (call.status != JV_OK) {
            fprintf(stderr, "load_like_python: %s failed (%d): %s\n", asks ? "ask" : "plan", (int)call.status,
                    call.error.message);
            exit_code = 10 + (int)call.status;
        }
        free(call.config);
        free(call.request);
    }
    fflush(stdout);
    FreeLibrary(library);
    return exit_code;
}
