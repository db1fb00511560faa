"""Load a jarvis-vision plugin from Python with ctypes and the standard library only.

This mirrors plugin_api/include/jarvis/vision_provider.h (ABI 1) for the Jarvis host, which is Python:

    plugin = Plugin("/path/to/native_video.so")
    with plugin.create_provider({"endpoint": {"base_url": "http://127.0.0.1:8000/v1"}}) as provider:
        plan = provider.plan({"video": "clip.mp4", "prompt": "What happens?",
                              "loadout": "vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#nativevideo"})

Errors raise VisionError with the plugin's status code and message. Nothing is freed across the boundary: results
arrive through callbacks and are copied here.
"""

import ctypes
import json
import os

ABI_MAJOR = 1
ENTRY_POINT = "jarvis_vision_plugin"

OK, E_INVALID_ARGUMENT, E_MEDIA, E_UNREACHABLE, E_REFUSED, E_TIMEOUT, E_CANCELLED, E_INTERNAL = range(8)
LOG_TRACE, LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR = range(5)
ERROR_MESSAGE_SIZE = 2048

LogFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int32, ctypes.c_char_p, ctypes.c_size_t)
ResultFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t)
TextFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t)
ProgressFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_double)
CancelledFn = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p)


class JvError(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("code", ctypes.c_int32), ("http_status", ctypes.c_int32),
                ("message_length", ctypes.c_uint32), ("message", ctypes.c_char * ERROR_MESSAGE_SIZE)]


class JvHost(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("user_data", ctypes.c_void_p), ("log", LogFn),
                ("min_log_level", ctypes.c_int32)]


class JvCallbacks(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("user_data", ctypes.c_void_p), ("on_result", ResultFn),
                ("on_text", TextFn), ("on_progress", ProgressFn), ("is_cancelled", CancelledFn)]


CreateFn = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.POINTER(JvHost), ctypes.c_char_p,
                            ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(JvError))
DestroyFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
CallFn = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(JvCallbacks),
                          ctypes.POINTER(JvError))


class JvPlugin(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("abi_major", ctypes.c_uint32), ("abi_minor", ctypes.c_uint32),
                ("name", ctypes.c_char_p), ("version", ctypes.c_char_p), ("create", CreateFn),
                ("destroy", DestroyFn), ("plan", CallFn), ("ask", CallFn)]


class VisionError(Exception):
    def __init__(self, code, message, http_status=0):
        super().__init__(message)
        self.code = code
        self.http_status = http_status


class PluginLoadError(Exception):
    pass


def _new_error():
    error = JvError()
    error.struct_size = ctypes.sizeof(JvError)
    return error


class Plugin:
    """A loaded plugin library and its validated function table."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        try:
            self._library = ctypes.CDLL(self.path, mode=os.RTLD_NOW | os.RTLD_LOCAL)
        except OSError as e:
            raise PluginLoadError(f"{self.path}: cannot load it: {e}") from None
        try:
            entry = getattr(self._library, ENTRY_POINT)
        except AttributeError:
            raise PluginLoadError(f"{self.path}: not a jarvis-vision plugin: it does not export {ENTRY_POINT}") from None
        entry.restype = ctypes.POINTER(JvPlugin)
        entry.argtypes = [ctypes.c_uint32]
        table = entry(ABI_MAJOR)
        if not table:
            raise PluginLoadError(f"{self.path}: the plugin refuses ABI major {ABI_MAJOR}")
        self._table = table.contents
        if self._table.struct_size < ctypes.sizeof(JvPlugin) or self._table.abi_major != ABI_MAJOR:
            raise PluginLoadError(f"{self.path}: its table is too small or of another ABI major")
        self.name = self._table.name.decode()
        self.version = self._table.version.decode()
        self.abi = f"{self._table.abi_major}.{self._table.abi_minor}"

    def create_provider(self, config=None, log=None, min_log_level=LOG_INFO):
        return Provider(self, config if config is not None else {}, log, min_log_level)


class Provider:
    """One configured provider. Use it as a context manager, or call close()."""

    def __init__(self, plugin, config, log, min_log_level):
        self._handle = None
        self._plugin = plugin  # keeps the library loaded while the provider lives
        self._table = plugin._table
        self._log = log
        self._log_fn = LogFn(self._forward_log)  # kept referenced: the plugin calls it until close()
        self._host = JvHost(ctypes.sizeof(JvHost), None, self._log_fn if log else LogFn(), min_log_level)
        handle = ctypes.c_void_p()
        error = _new_error()
        status = self._table.create(ctypes.byref(self._host), json.dumps(config).encode(), ctypes.byref(handle),
                                    ctypes.byref(error))
        if status != OK:
            raise VisionError(status, error.message.decode(errors="replace"), error.http_status)
        self._handle = handle

    def _forward_log(self, _user_data, level, message, length):
        self._log(level, ctypes.string_at(message, length).decode(errors="replace"))

    def plan(self, request, on_progress=None, is_cancelled=None):
        return self._call(self._table.plan, request, None, on_progress, is_cancelled)

    def ask(self, request, on_text=None, on_progress=None, is_cancelled=None):
        return self._call(self._table.ask, request, on_text, on_progress, is_cancelled)

    def _call(self, function, request, on_text, on_progress, is_cancelled):
        if self._handle is None:
            raise VisionError(E_INVALID_ARGUMENT, "the provider is closed")
        result = []
        callbacks = JvCallbacks(
            ctypes.sizeof(JvCallbacks), None,
            ResultFn(lambda _u, data, n: result.append(ctypes.string_at(data, n))),
            TextFn(lambda _u, data, n: on_text(ctypes.string_at(data, n).decode()) if on_text else None),
            ProgressFn(lambda _u, stage, f: on_progress(stage.decode(), f) if on_progress else None),
            CancelledFn(lambda _u: 1 if is_cancelled and is_cancelled() else 0))
        error = _new_error()
        status = function(self._handle, json.dumps(request).encode(), ctypes.byref(callbacks), ctypes.byref(error))
        if status != OK:
            raise VisionError(status, error.message.decode(errors="replace"), error.http_status)
        return json.loads(result[0]) if result else None

    def close(self):
        if getattr(self, "_handle", None) is not None:
            self._table.destroy(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()
