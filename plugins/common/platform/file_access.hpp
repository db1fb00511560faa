#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace jarvis {

// Why the file cannot be opened for reading by this process ("permission denied"), or nothing when it can.
std::optional<std::string> cannot_read(const std::filesystem::path& file);

// Why this process cannot create files in `dir`, or nothing when it can. Leaves nothing behind.
std::optional<std::string> cannot_write_into(const std::filesystem::path& dir);

// Makes `link` a second name of `target` when both are on one volume; false (and nothing made) otherwise.
bool hard_link_if_same_volume(const std::filesystem::path& target, const std::filesystem::path& link);

} // namespace jarvis
