#include "cli_options.hpp"

#include "config/config_error.hpp"

#include <CLI/CLI.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string_view>

namespace jarvis::host {
namespace {

// Where `text` stops being well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
std::optional<size_t> invalid_utf8_at(std::string_view text)
{
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
    for (size_t i = 0; i < text.size();) {
        const unsigned char lead = byte(i);
        size_t length = 0;
        unsigned char low = 0x80, high = 0xbf; // the range of the byte after the lead
        if (lead < 0x80) {
            ++i;
            continue;
        } else if (lead >= 0xc2 && lead <= 0xdf) {
            length = 2;
        } else if (lead >= 0xe0 && lead <= 0xef) {
            length = 3;
            low = lead == 0xe0 ? 0xa0 : 0x80;
            high = lead == 0xed ? 0x9f : 0xbf;
        } else if (lead >= 0xf0 && lead <= 0xf4) {
            length = 4;
            low = lead == 0xf0 ? 0x90 : 0x80;
            high = lead == 0xf4 ? 0x8f : 0xbf;
        } else {
            return i;
        }
        if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high)
            return i;
        for (size_t k = 2; k < length; ++k)
            if (byte(i + k) < 0x80 || byte(i + k) > 0xbf)
                return i;
        i += length;
    }
    return std::nullopt;
}

} // namespace

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
  probe [--video FILE] [--json]              check the endpoint with every delivery; with FILE, measure
                                             the server's decoding on that video's first seconds
  vram [--json]                              the GPU memory this configuration needs, and settings that fit

SRC is a local path or an http(s) URL. A loadout is ENGINE://MODEL#flag#key=value..., for example
vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#nativevideo#fps=2.
Options take their value as the next argument or after '=' (--prompt=TEXT for a text that starts with '-').
exit codes: 0 ok, 2 usage or configuration, 3 unusable video, 4 server unreachable, 5 server refused,
            6 timed out, 130 cancelled
)";
}

CliOptions parse_cli(const std::vector<std::string>& args)
{
    CliOptions o;
    // One flat grammar: the options of every command are accepted anywhere, so that global options may stand after
    // the command as well as before it; the command itself is the one positional argument.
    CLI::App app{"jarvis-host"};
    app.set_help_flag(); // --help prints usage_text(), the contract's own wording
    app.allow_extras();  // reported below in jarvis-host's words
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast); // a later value overrides, as argparse does
    const std::pair<const char*, std::optional<std::string>*> valued[] = {
        {"--config", &o.config_file},
        {"--plugin-dir", &o.plugin_dir},
        {"--endpoint", &o.endpoint},
        {"--loadout", &o.loadout},
        {"--log-level", &o.log_level},
        {"--input-data-host", &o.input_data_host},
        {"--input-data-container", &o.input_data_container},
        {"--http-advertise", &o.http_advertise},
        {"--video", &o.video},
        {"--prompt", &o.prompt},
        {"--format", &o.format},
        {"--continue", &o.continue_file},
    };
    for (const auto& [name, target] : valued)
        app.add_option(name, *target);
    app.add_flag("--json", o.json);
    app.add_flag("--stream", o.stream);
    app.add_flag("-h,--help", o.help);
    app.add_option("command", o.command);

    std::vector<std::string> reversed(args.rbegin(), args.rend()); // CLI11 takes its arguments last first
    try {
        app.parse(reversed);
    } catch (const CLI::ParseError& e) {
        throw ConfigError(std::string(e.what()) + " (see jarvis-host --help)");
    }
    // The plugins take text and paths as UTF-8 in JSON, which cannot carry other bytes; a shell whose locale is not
    // UTF-8, or a file named in another encoding, would otherwise fail later and less clearly.
    for (const auto& [name, target] : valued)
        if (*target)
            if (const auto at = invalid_utf8_at(**target))
                throw ConfigError(fmt::format("{} is not UTF-8 text (byte 0x{:02x} at offset {}): jarvis-host takes its arguments, "
                                              "paths included, as UTF-8",
                                              name, static_cast<unsigned char>((**target)[*at]), *at));
    for (const std::string& extra : app.remaining()) {
        if (!extra.empty() && extra[0] == '-')
            throw ConfigError("unknown option " + extra + " (see jarvis-host --help)");
        throw ConfigError("unexpected argument '" + extra + "' after command " + o.command);
    }
    return o;
}

} // namespace jarvis::host
