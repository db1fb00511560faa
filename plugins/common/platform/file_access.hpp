#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <system_error>

namespace jarvis {

// Why the file cannot be opened for reading by this process ("permission denied"), or nothing when it can.
std::optional<std::string> cannot_read(const std::filesystem::path& file);

// Why this process cannot create files in `dir`, or nothing when it can. Leaves nothing behind.
std::optional<std::string> cannot_write_into(const std::filesystem::path& dir);

// Makes `link` a second name of `target` when both are on one volume; false (and nothing made) otherwise.
bool hard_link_if_same_volume(const std::filesystem::path& target, const std::filesystem::path& link);

// How many names the file has (more than one: it is a hard link, or has one), or nothing when it cannot be looked at.
std::optional<uint64_t> name_count(const std::filesystem::path& file);

// Whether hard_link_if_same_volume would link `target` into `dir`: both on one volume (on Windows also one whose
// filesystem has hard links, which FAT and exFAT have not). False where either cannot be looked at.
bool can_hard_link(const std::filesystem::path& target, const std::filesystem::path& dir);

// Copies `from` into `to` (created, or replaced), telling `progress` the bytes copied so far as it goes; when it
// returns false the copy stops with std::errc::operation_canceled. Where it fails or stops, `to` may be left partly
// written: the caller removes it.
std::error_code copy_file_reporting(const std::filesystem::path& from, const std::filesystem::path& to,
                                    const std::function<bool(int64_t copied)>& progress);

} // namespace jarvis
