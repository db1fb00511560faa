#pragma once

#include <optional>
#include <string>

namespace jarvis {

// A host path as a comparable form: separators '/', Windows drive letters and UNC prefixes recognised
// ("C:\Users\Me" -> windows "c:/users/me", "\\server\share" -> windows "//server/share"), "." and ".." resolved
// lexically. Windows paths compare case-insensitively (their folded form is kept); POSIX paths keep their case.
struct HostPath
{
    bool windows = false;
    std::string comparable; // case-folded for Windows
    std::string original;   // separators normalised, case kept (for the relative part of a mapped URL)
};

// Returns nothing for a relative path (a volume needs absolute paths) or one whose ".." climbs above its root.
std::optional<HostPath> parse_host_path(const std::string& path);

// The file:// URL inside the container for `file`, when it lies strictly inside `host_root` (both in the host's
// form, Windows or POSIX), or nothing. The relative part is percent-encoded (libcurl's URL API); the URL has three
// slashes.
std::optional<std::string> map_host_path(const std::string& file, const std::string& host_root, const std::string& container_root);

} // namespace jarvis
