"""plugin_api/include/jarvis/vision_provider.h (ABI 1.1) in ctypes: the structs and function types, nothing else."""

from __future__ import annotations

import ctypes

ABI_MAJOR = 1
ENTRY_POINT = "jarvis_vision_plugin"
OK = 0
E_CANCELLED = 6
LOG_TRACE, LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR = range(5)
ERROR_MESSAGE_SIZE = 2048

LogFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int32, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t)
BytesFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t)
ProgressFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_double)
CancelledFn = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p)


class JvError(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("code", ctypes.c_int32),
        ("http_status", ctypes.c_int32),
        ("message_length", ctypes.c_uint32),
        ("message", ctypes.c_char * ERROR_MESSAGE_SIZE),
    ]


class JvHost(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("user_data", ctypes.c_void_p),
        ("log", LogFn),
        ("min_log_level", ctypes.c_int32),
    ]


class JvCallbacks(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("user_data", ctypes.c_void_p),
        ("on_result", BytesFn),
        ("on_text", BytesFn),
        ("on_progress", ProgressFn),
        ("is_cancelled", CancelledFn),
    ]


CreateFn = ctypes.CFUNCTYPE(
    ctypes.c_int32, ctypes.POINTER(JvHost), ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(JvError)
)
DestroyFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
CallFn = ctypes.CFUNCTYPE(
    ctypes.c_int32, ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(JvCallbacks), ctypes.POINTER(JvError)
)


class JvPlugin(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("abi_major", ctypes.c_uint32),
        ("abi_minor", ctypes.c_uint32),
        ("name", ctypes.c_char_p),
        ("version", ctypes.c_char_p),
        ("create", CreateFn),
        ("destroy", DestroyFn),
        ("plan", CallFn),
        ("ask", CallFn),
        # ABI 1.1
        ("tool", CallFn),
    ]


def covers(table: JvPlugin, member: str) -> bool:
    """True when a plugin's table, as large as its struct_size says, has `member` (JV_HAS_MEMBER)."""
    field = getattr(JvPlugin, member)
    return int(table.struct_size) >= int(field.offset) + int(field.size)


def new_error() -> JvError:
    error = JvError()
    error.struct_size = ctypes.sizeof(JvError)
    return error
