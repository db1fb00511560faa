#include "platform/unicode_nfc.hpp"

#include <windows.h>

#include <string>

namespace jarvis {

std::string to_nfc(std::string_view utf8)
{
    const int wide_length = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
    if (wide_length <= 0)
        return std::string(utf8);
    std::wstring wide(static_cast<size_t>(wide_length), L'\0');
    MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), wide.data(), wide_length);
    // NormalizeString tells how much room it may need, and how much it used.
    int room = NormalizeString(NormalizationC, wide.data(), wide_length, nullptr, 0);
    for (int attempt = 0; room > 0 && attempt < 4; ++attempt) {
        std::wstring normalized(static_cast<size_t>(room), L'\0');
        const int used = NormalizeString(NormalizationC, wide.data(), wide_length, normalized.data(), room);
        if (used > 0) {
            normalized.resize(static_cast<size_t>(used));
            const int length = WideCharToMultiByte(CP_UTF8, 0, normalized.data(), used, nullptr, 0, nullptr, nullptr);
            std::string out(static_cast<size_t>(length), '\0');
            WideCharToMultiByte(CP_UTF8, 0, normalized.data(), used, out.data(), length, nullptr, nullptr);
            return out;
        }
        if (GetLastError() != ERROR_INSUFFICIENT_BUFFER)
            break;
        room = -used;
    }
    return std::string(utf8);
}

} // namespace jarvis
