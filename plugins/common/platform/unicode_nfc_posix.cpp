#include "platform/unicode_nfc.hpp"

#include <uninorm.h>

#include <cstdlib>
#include <memory>

namespace jarvis {

std::string to_nfc(std::string_view utf8)
{
    size_t length = 0;
    uint8_t* normalized = u8_normalize(UNINORM_NFC, reinterpret_cast<const uint8_t*>(utf8.data()), utf8.size(), nullptr, &length);
    if (normalized == nullptr)
        return std::string(utf8);
    const std::unique_ptr<uint8_t, decltype(&std::free)> owned(normalized, &std::free);
    return std::string(reinterpret_cast<const char*>(normalized), length);
}

} // namespace jarvis
