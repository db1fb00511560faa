#include "tools/probe_files.hpp"

#include "platform/owned_files.hpp"

namespace jarvis {

std::filesystem::path unique_probe_path(const std::filesystem::path& dir, std::string_view suffix)
{
    return owned_file_path(dir, probe_prefix, suffix);
}

ProbeFile::~ProbeFile()
{
    std::error_code ec;
    std::filesystem::remove(path, ec);
}

} // namespace jarvis
