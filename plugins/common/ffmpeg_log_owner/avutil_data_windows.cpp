#include "avutil_data.hpp"

extern "C" {
#include <libavutil/log.h>
#include <libavutil/version.h>
}

#include <string>

#include <windows.h>

namespace jarvis::ffmpeg_log {

namespace {

// Taking av_log_set_callback's address here would give this library's import thunk, not libavutil: the module is
// found by its file name instead, which carries the major version (avutil-57.dll).
HMODULE avutil_module()
{
    const std::wstring name = L"avutil-" + std::to_wstring(LIBAVUTIL_VERSION_MAJOR) + L".dll";
    return ::GetModuleHandleW(name.c_str());
}

} // namespace

std::vector<MemoryRange> avutil_writable_data()
{
    const auto base = reinterpret_cast<uintptr_t>(avutil_module());
    if (base == 0)
        return {};
    const auto* dos = reinterpret_cast<const IMAGE_DOS_HEADER*>(base);
    if (dos->e_magic != IMAGE_DOS_SIGNATURE)
        return {};
    const auto* nt = reinterpret_cast<const IMAGE_NT_HEADERS*>(base + static_cast<uintptr_t>(dos->e_lfanew));
    if (nt->Signature != IMAGE_NT_SIGNATURE)
        return {};
    std::vector<MemoryRange> writable;
    const IMAGE_SECTION_HEADER* section = IMAGE_FIRST_SECTION(nt);
    for (WORD i = 0; i < nt->FileHeader.NumberOfSections; ++i, ++section)
        if ((section->Characteristics & IMAGE_SCN_MEM_WRITE) != 0) {
            const uintptr_t start = base + section->VirtualAddress;
            writable.push_back({start, start + section->Misc.VirtualSize});
        }
    return writable;
}

LogCallback avutil_default_callback()
{
    const HMODULE avutil = avutil_module();
    const FARPROC found = avutil != nullptr ? ::GetProcAddress(avutil, "av_log_default_callback") : nullptr;
    return found != nullptr ? reinterpret_cast<LogCallback>(reinterpret_cast<void*>(found)) : &av_log_default_callback;
}

} // namespace jarvis::ffmpeg_log
