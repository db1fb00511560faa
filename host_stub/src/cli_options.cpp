#include "cli_options.hpp"

#include "config/config_error.hpp"

#include <map>

namespace jarvis::host {

const char* usage_text()
{
    return R"(usage: jarvis-host [--config FILE] [--plugin-dir DIR] [--endpoint URL] [--loadout STR] [--log-level L]
                   [--input-data-host DIR --input-data-container DIR] [--http-advertise HOST] COMMAND ...

commands:
  plugins [--json]                           every plugin found: name, version, ABI, or why it failed to load
  plan --video SRC --prompt TEXT [--json]    build the request without sending it; no side effects
  ask  --video SRC --prompt TEXT [--stream] [--json]
  ask  --continue FILE --prompt TEXT [--stream] [--json]
                                             a follow-up question about the video of FILE, a previous
                                             `ask --json` output (plan takes --continue too)
                                             send it and print the answer
  vllm-command [--format docker|compose|args]
  probe [--json]                             check the endpoint with every delivery
  vram [--json]                              the GPU memory this configuration needs, and settings that fit

SRC is a local path or an http(s) URL. A loadout is ENGINE://MODEL#flag#key=value..., for example
vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#nativevideo#fps=2.
exit codes: 0 ok, 2 usage or configuration, 3 unusable video, 4 server unreachable, 5 server refused,
            6 timed out, 130 cancelled
)";
}

CliOptions parse_cli(const std::vector<std::string>& args)
{
    CliOptions o;
    const std::map<std::string, std::optional<std::string> CliOptions::*> valued = {
        {"--config", &CliOptions::config_file},
        {"--plugin-dir", &CliOptions::plugin_dir},
        {"--endpoint", &CliOptions::endpoint},
        {"--loadout", &CliOptions::loadout},
        {"--log-level", &CliOptions::log_level},
        {"--input-data-host", &CliOptions::input_data_host},
        {"--input-data-container", &CliOptions::input_data_container},
        {"--http-advertise", &CliOptions::http_advertise},
        {"--video", &CliOptions::video},
        {"--prompt", &CliOptions::prompt},
        {"--format", &CliOptions::format},
        {"--continue", &CliOptions::continue_file},
    };
    const std::map<std::string, bool CliOptions::*> flags = {
        {"--json", &CliOptions::json},
        {"--stream", &CliOptions::stream},
        {"--help", &CliOptions::help},
        {"-h", &CliOptions::help},
    };

    for (size_t i = 0; i < args.size(); ++i) {
        std::string arg = args[i];
        std::optional<std::string> inline_value;
        if (arg.rfind("--", 0) == 0) {
            if (const size_t eq = arg.find('='); eq != std::string::npos) {
                inline_value = arg.substr(eq + 1);
                arg.resize(eq);
            }
        }
        if (auto v = valued.find(arg); v != valued.end()) {
            if (inline_value) {
                o.*(v->second) = *inline_value;
            } else {
                if (i + 1 >= args.size())
                    throw ConfigError("option " + arg + " needs a value");
                o.*(v->second) = args[++i];
            }
        } else if (auto f = flags.find(arg); f != flags.end()) {
            if (inline_value)
                throw ConfigError("option " + arg + " takes no value");
            o.*(f->second) = true;
        } else if (!arg.empty() && arg[0] == '-') {
            throw ConfigError("unknown option " + arg + " (see jarvis-host --help)");
        } else if (o.command.empty()) {
            o.command = arg;
        } else {
            throw ConfigError("unexpected argument '" + arg + "' after command " + o.command);
        }
    }
    return o;
}

} // namespace jarvis::host
