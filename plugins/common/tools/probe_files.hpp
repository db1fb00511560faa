#pragma once

#include <filesystem>
#include <string_view>

namespace jarvis {

// The files probe writes where it works (its videos, its timed copy): named after their process under one prefix, so
// that the next probe removes what a killed one left (platform/owned_files.hpp), and each removed when it ends.
inline constexpr std::string_view probe_prefix = "jarvis-probe-";

// A name in `dir` no other probe, in this process or another, is writing at the same time.
std::filesystem::path unique_probe_path(const std::filesystem::path& dir, std::string_view suffix = ".mp4");

// Removes its file, wherever it was written, however the probe ends.
struct ProbeFile
{
    std::filesystem::path path;
    ~ProbeFile();
};

} // namespace jarvis
