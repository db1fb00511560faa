#include "platform/native_path.hpp"

namespace jarvis {
namespace {

constexpr size_t classic_max_path = 260;

std::u8string as_u8(std::string_view s) { return std::u8string(s.begin(), s.end()); }

} // namespace

std::filesystem::path native_path(std::string_view utf8)
{
    std::filesystem::path path(as_u8(utf8));
    path.make_preferred();
    const std::wstring& w = path.native();
    const bool prefixed = w.rfind(LR"(\\?\)", 0) == 0 || w.rfind(LR"(\\.\)", 0) == 0;
    if (prefixed || w.size() < classic_max_path || !path.is_absolute())
        return path;
    // "\\?\" turns off Windows' own normalisation, so the path must already be in its final form.
    const std::wstring normal = path.lexically_normal().native();
    if (normal.rfind(LR"(\\)", 0) == 0)
        return std::filesystem::path(LR"(\\?\UNC\)" + normal.substr(2));
    return std::filesystem::path(LR"(\\?\)" + normal);
}

std::string utf8_path(const std::filesystem::path& path)
{
    const std::u8string u8 = path.u8string();
    return std::string(u8.begin(), u8.end());
}

} // namespace jarvis
