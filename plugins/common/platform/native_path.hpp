#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace jarvis {

// Paths cross the ABI, the JSON documents and FFmpeg as UTF-8; the operating system wants its own form (UTF-16
// on Windows, where a std::string would be read in the ANSI code page and mangle "Łukasz" or "漢字"). Convert at
// the boundary with these two, never with path(std::string) or path.string().

// The path for the operating system. On Windows also: '/' becomes '\', and an absolute path too long for the
// classic 260-character limit gets the "\\?\" (or "\\?\UNC\") prefix that lifts it.
std::filesystem::path native_path(std::string_view utf8);

// The path as UTF-8, for messages, documents and FFmpeg.
std::string utf8_path(const std::filesystem::path& path);

} // namespace jarvis
