#include "volume_paths.hpp"

#include "http/url_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace jarvis {
namespace {

std::string fold(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

} // namespace

std::optional<HostPath> parse_host_path(const std::string& path)
{
    std::string p = path;
    std::replace(p.begin(), p.end(), '\\', '/');
    // Windows' long-path forms name the same places: \\?\C:\x is C:\x, \\?\UNC\server\share is \\server\share.
    if (p.rfind("//?/UNC/", 0) == 0)
        p = "//" + p.substr(8);
    else if (p.rfind("//?/", 0) == 0)
        p = p.substr(4);
    HostPath out;
    std::string root;
    std::string rest;
    if (p.size() >= 2 && std::isalpha(static_cast<unsigned char>(p[0])) && p[1] == ':') {
        if (p.size() > 2 && p[2] != '/')
            return std::nullopt; // "C:foo" is relative to that drive's current directory
        out.windows = true;
        root = std::string(1, static_cast<char>(std::tolower(static_cast<unsigned char>(p[0])))) + ":";
        rest = p.substr(2);
    } else if (p.rfind("//", 0) == 0) {
        out.windows = true; // UNC: //server/share is the root
        const size_t server_end = p.find('/', 2);
        const size_t share_end = server_end == std::string::npos ? std::string::npos : p.find('/', server_end + 1);
        if (server_end == std::string::npos || server_end == 2)
            return std::nullopt;
        root = p.substr(0, share_end);
        rest = share_end == std::string::npos ? "" : p.substr(share_end);
    } else if (!p.empty() && p[0] == '/') {
        rest = p;
    } else {
        return std::nullopt;
    }
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= rest.size()) {
        const size_t slash = rest.find('/', start);
        const std::string part = rest.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (part == "..") {
            if (parts.empty())
                return std::nullopt;
            parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        if (slash == std::string::npos)
            break;
        start = slash + 1;
    }
    out.original = root;
    for (const auto& part : parts)
        out.original += "/" + part;
    if (out.original.empty())
        out.original = "/";
    out.comparable = out.windows ? fold(out.original) : out.original;
    return out;
}

std::optional<std::string> map_host_path(const std::string& file, const std::string& host_root, const std::string& container_root)
{
    const auto f = parse_host_path(file);
    const auto r = parse_host_path(host_root);
    if (!f || !r || f->windows != r->windows)
        return std::nullopt;
    const std::string prefix = r->comparable == "/" ? "/" : r->comparable + "/";
    // Strictly inside: a longer path under the root, never the root itself or a sibling like "input_data2".
    if (f->comparable.size() <= prefix.size() || f->comparable.compare(0, prefix.size(), prefix) != 0)
        return std::nullopt;
    const std::string relative = f->original.substr(prefix.size());
    std::string container = container_root;
    while (container.size() > 1 && container.back() == '/')
        container.pop_back();
    return file_url(container + "/" + relative);
}

} // namespace jarvis
