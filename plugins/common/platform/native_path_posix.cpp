#include "platform/native_path.hpp"

namespace jarvis {

// POSIX paths are bytes: UTF-8 in, UTF-8 out.
std::filesystem::path native_path(std::string_view utf8) { return std::filesystem::path(std::string(utf8)); }

std::string utf8_path(const std::filesystem::path& path) { return path.string(); }

} // namespace jarvis
