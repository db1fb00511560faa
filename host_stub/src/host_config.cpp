#include "host_config.hpp"

#include "config/config_error.hpp"
#include "platform/native_path.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace jarvis::host {
namespace {

nlohmann::json read_config_file(const std::string& path)
{
    std::error_code ec;
    const auto file = native_path(path);
    if (std::filesystem::is_directory(file, ec))
        throw ConfigError("config file '" + path + "': is a directory");
    std::ifstream in(file);
    if (!in)
        throw ConfigError("config file '" + path + "': cannot read it: " + std::strerror(errno));
    std::stringstream text;
    text << in.rdbuf();
    try {
        return nlohmann::json::parse(text.str());
    } catch (const nlohmann::json::parse_error& e) {
        throw ConfigError("config file '" + path + "': not valid JSON: " + e.what());
    }
}

} // namespace

HostConfig resolve_config(const CliOptions& cli, const std::filesystem::path& executable_dir)
{
    HostConfig c;
    const std::string origin = cli.config_file ? "config file '" + *cli.config_file + "'" : "configuration";
    c.document = cli.config_file ? read_config_file(*cli.config_file) : nlohmann::json::object();
    if (!c.document.is_object())
        throw ConfigError(origin + ": must be a JSON object");

    // Validate the file as written, so that its errors name the file, then lay the command line over it.
    c.warnings = parse_provider_config(c.document, origin).warnings;
    auto& d = c.document;
    if (cli.endpoint)
        d["endpoint"]["base_url"] = *cli.endpoint;
    if (cli.loadout)
        d["loadout"] = *cli.loadout;
    if (cli.plugin_dir)
        d["plugin_dir"] = *cli.plugin_dir;
    if (cli.log_level)
        d["log_level"] = *cli.log_level;
    if (cli.input_data_host)
        d["input_data"]["host_path"] = *cli.input_data_host;
    if (cli.input_data_container)
        d["input_data"]["container_path"] = *cli.input_data_container;
    if (cli.http_advertise)
        d["http_delivery"]["advertise"] = *cli.http_advertise;
    c.parsed = parse_provider_config(d, "command line");

    c.loadout = parse_loadout(c.parsed.loadout.empty() ? std::string(default_loadout) : c.parsed.loadout);
    c.warnings.insert(c.warnings.end(), c.loadout.warnings.begin(), c.loadout.warnings.end());
    c.plugin_dir = c.parsed.plugin_dir.empty() ? executable_dir / ".." / "lib" / "jarvis" / "plugins"
                                               : native_path(c.parsed.plugin_dir);
    c.plugin_dir = c.plugin_dir.lexically_normal();
    return c;
}

} // namespace jarvis::host
