// jarvis-host: the command-line stand-in for the Jarvis host (docs/contract.md, "jarvis-host").
#include "cli_options.hpp"
#include "commands.hpp"
#include "config/config_error.hpp"
#include "host_config.hpp"
#include "platform/console.hpp"

#include <jarvis/vision_provider.hpp>

#include <boost/dll/runtime_symbol_info.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>

namespace {

using namespace jarvis::host;

void set_up_logging(const std::string& level_name)
{
    auto logger = spdlog::stderr_logger_mt("jarvis-host");
    logger->set_pattern("jarvis-host: [%l] %v");
    spdlog::set_default_logger(logger);
    const auto level = spdlog::level::from_str(level_name);
    if (level == spdlog::level::off && level_name != "off")
        throw jarvis::ConfigError("--log-level '" + level_name + "' is not one of trace, debug, info, warn, error, off");
    spdlog::set_level(level);
}

// One line on stderr; with --json the same error as a JSON object on stdout too.
int report(ExitCode code, const std::string& message, bool json, int http_status = 0)
{
    std::cerr << "jarvis-host: " << message << std::endl;
    if (json) {
        nlohmann::json error = {{"kind", error_kind(code)}, {"message", message}, {"exit_code", int(code)}};
        if (http_status != 0)
            error["http_status"] = http_status;
        // A message may quote what the user gave, bytes that are not UTF-8 included: replaced, so that reporting the
        // error cannot itself fail.
        std::cout << nlohmann::json{{"error", error}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
    }
    return code;
}

int run(const std::vector<std::string>& args)
{
    // Known before parsing, so that an error in the arguments is reported as --json asks too.
    bool json = std::find(args.begin(), args.end(), "--json") != args.end();
    try {
        const CliOptions cli = parse_cli(args);
        json = cli.json;
        if (cli.help || cli.command.empty()) {
            std::cout << usage_text();
            return cli.help ? exit_ok : exit_usage;
        }
        const HostConfig config = resolve_config(cli, boost::dll::program_location().parent_path());
        set_up_logging(config.parsed.log_level.empty() ? "warn" : config.parsed.log_level);
        // plan and ask results carry these among their warnings; the other commands say them here.
        if (cli.command != "plan" && cli.command != "ask")
            for (const auto& w : config.warnings)
                spdlog::warn("{}", w);
        if (cli.command == "plugins")
            return run_plugins(cli, config);
        if (cli.command == "plan")
            return run_plan(cli, config);
        if (cli.command == "ask")
            return run_ask(cli, config);
        if (cli.command == "vllm-command")
            return run_vllm_command(cli, config);
        if (cli.command == "vram")
            return run_vram(cli, config);
        if (cli.command == "probe")
            return run_probe(cli, config);
        return report(exit_usage, "unknown command '" + cli.command + "' (see jarvis-host --help)", json);
    } catch (const jarvis::ConfigError& e) {
        return report(exit_usage, e.what(), json);
    } catch (const jarvis::vision::Error& e) {
        const ExitCode code = exit_code_for(e.code());
        return report(code, e.what(), json, e.http_status());
    } catch (const std::exception& e) {
        return report(exit_internal, std::string("internal error: ") + e.what(), json);
    }
}

} // namespace

int main(int argc, char** argv)
{
    set_flag_on_interrupt(interrupted);
    use_utf8_output();
    return run(utf8_arguments(argc, argv));
}
