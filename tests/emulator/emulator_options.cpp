#include "emulator_options.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <stdexcept>

namespace jarvis::emulator {

const char* emulator_usage()
{
    return R"(usage: vlm-emulator [MODEL] [--host H] [--port P] [--served-model-name NAME] [--model NAME]
                    [--allowed-local-media-path DIR] [--limit-mm-per-prompt JSON] [--media-io-kwargs JSON]
                    (JSON flags also in vLLM's dot notation: --media-io-kwargs.video.backend torchcodec)
                    [--max-model-len N] [--video-loader qwen3_vl|opencv] [--media-fetch-timeout S]
                    [--mm-processor-cache-gb G] [--answer-padding-bytes N]
                    [--fault-first-byte-delay-ms N] [--fault-chunk-delay-ms N] [--fault-drop-after-chunks N]
                    [--fault-error-after-chunks N] [--fault-status CODE --fault-body TEXT] [--fault-hang]
                    [--fault-fail-first N] [--fault-from-prompt]
Behaves like vLLM's OpenAI-compatible server for Qwen3-VL: it fetches and decodes every image and video it is
sent, and answers with a JSON description of what it received. Other vLLM flags (--gpu-memory-utilization, ...)
are accepted and ignored. With --port 0 it picks a free port; once ready it prints "listening on http://H:P".
)";
}

Faults faults_for_request(const Faults& server, const std::string& body)
{
    Faults f = server;
    if (!f.from_prompt)
        return f;
    auto marked = [&](const char* name) { return body.find(std::string("[fault:") + name + "]") != std::string::npos; };
    if (marked("hang")) {
        // Bounded: the client that chose it cancels long before, and an unbounded wait would keep one of the
        // server's threads for good (httplib cannot tell that the client has gone).
        f.hang = true;
        f.hang_limit_ms = 3000;
    }
    if (marked("drop"))
        f.drop_after_chunks = 2;
    if (marked("error"))
        f.error_after_chunks = 2;
    if (marked("slow"))
        f.chunk_delay_ms = 20;
    if (marked("503")) {
        f.status = 503;
        f.body = R"({"error": {"message": "Service Unavailable: the engine is overloaded", "type": "ServiceUnavailableError", "param": null, "code": 503}})";
    }
    return f;
}

namespace {

// vLLM's dot notation for its JSON flags (`--media-io-kwargs.video.num_frames -1`, what jarvis-host vllm-command
// emits): each dotted flag sets one key, its value read as JSON where it parses (-1, true) and as text otherwise
// (torchcodec); the keys join the flag's JSON object, given whole or not. Returned as plain `--flag JSON` arguments.
std::vector<std::string> with_dots_resolved(const std::vector<std::string>& args)
{
    std::vector<std::string> out;
    std::vector<std::pair<std::string, nlohmann::json>> objects; // flag -> object, in first-seen order
    const auto object_for = [&](const std::string& flag) -> nlohmann::json& {
        for (auto& [name, object] : objects)
            if (name == flag)
                return object;
        objects.emplace_back(flag, nlohmann::json::object());
        return objects.back().second;
    };
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        const size_t dot = arg.find('.');
        const bool dotted = arg.rfind("--", 0) == 0 && dot != std::string::npos &&
                            (arg.rfind("--media-io-kwargs.", 0) == 0 || arg.rfind("--limit-mm-per-prompt.", 0) == 0 ||
                             arg.rfind("--mm-processor-kwargs.", 0) == 0);
        if (!dotted) {
            out.push_back(arg);
            continue;
        }
        const size_t equals = arg.find('=');
        const std::string path = arg.substr(dot + 1, equals == std::string::npos ? std::string::npos : equals - dot - 1);
        std::string value;
        if (equals != std::string::npos)
            value = arg.substr(equals + 1);
        else if (i + 1 < args.size())
            value = args[++i];
        else
            throw std::invalid_argument(arg + " needs a value");
        nlohmann::json parsed = nlohmann::json::parse(value, nullptr, false);
        if (parsed.is_discarded())
            parsed = value;
        nlohmann::json* at = &object_for(arg.substr(0, dot));
        for (size_t start = 0;;) {
            const size_t end = path.find('.', start);
            const std::string key = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
            if (key.empty())
                throw std::invalid_argument(arg + ": an empty key");
            if (end == std::string::npos) {
                (*at)[key] = parsed;
                break;
            }
            if (!(*at)[key].is_object())
                (*at)[key] = nlohmann::json::object();
            at = &(*at)[key];
            start = end + 1;
        }
    }
    for (auto& [flag, object] : objects) {
        // A whole JSON value given for the same flag: the dotted keys are merged into it.
        for (size_t i = 0; i + 1 < out.size(); ++i)
            if (out[i] == flag) {
                nlohmann::json whole = nlohmann::json::parse(out[i + 1], nullptr, false);
                if (whole.is_object()) {
                    whole.merge_patch(object);
                    object = whole;
                }
                out.erase(out.begin() + static_cast<long>(i), out.begin() + static_cast<long>(i) + 2);
                break;
            }
        out.push_back(flag);
        out.push_back(object.dump());
    }
    return out;
}

} // namespace

EmulatorOptions parse_emulator_options(const std::vector<std::string>& given)
{
    const std::vector<std::string> args = with_dots_resolved(given);
    EmulatorOptions o;
    CLI::App app{"vlm-emulator"};
    app.set_help_flag(); // main prints emulator_usage()
    app.allow_extras();  // reported below as "unknown option"
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast); // a later value overrides, as argparse does
    // Each value is taken as text and read here, so that a bad one gets a message naming the flag and the rule.
    const auto with_value = [&app](const char* flag, auto apply) {
        app.add_option_function<std::string>(flag, [flag, apply](const std::string& v) { apply(std::string(flag), v); });
    };
    const auto whole_number = [](const std::string& flag, const std::string& v) {
        try {
            size_t used = 0;
            const long long n = std::stoll(v, &used);
            if (used != v.size())
                throw std::invalid_argument("");
            return n;
        } catch (const std::exception&) {
            throw std::invalid_argument(flag + " needs a whole number, got '" + v + "'");
        }
    };
    const auto json_object = [](const std::string& flag, const std::string& text) {
        try {
            auto j = nlohmann::json::parse(text);
            if (!j.is_object())
                throw std::invalid_argument(flag + " must be a JSON object");
            return j;
        } catch (const nlohmann::json::parse_error&) {
            throw std::invalid_argument(flag + " must be JSON (since vLLM 0.10, e.g. '{\"video\": 1}'), got: " + text);
        }
    };
    const auto into_int = [&](int& target) {
        return [&target, whole_number](const std::string& flag, const std::string& v) { target = static_cast<int>(whole_number(flag, v)); };
    };

    app.add_option("model", o.served_model_name); // `vllm serve MODEL`
    app.add_option("--host", o.host);
    app.add_option("--served-model-name,--model", o.served_model_name);
    with_value("--port", into_int(o.port));
    with_value("--allowed-local-media-path", [&o](const std::string&, const std::string& dir) {
        namespace fs = std::filesystem;
        std::error_code ec;
        if (!fs::exists(dir, ec))
            throw std::invalid_argument("Invalid `--allowed-local-media-path`: The path " + dir + " does not exist.");
        if (!fs::is_directory(dir, ec))
            throw std::invalid_argument("Invalid `--allowed-local-media-path`: The path " + dir + " must be a directory.");
        o.fetch.allowed_local_media_path = fs::canonical(dir);
    });
    with_value("--limit-mm-per-prompt", [&](const std::string& f, const std::string& v) { o.limit_mm_per_prompt = json_object(f, v); });
    with_value("--media-io-kwargs", [&](const std::string& f, const std::string& v) { o.media_io_kwargs = json_object(f, v); });
    with_value("--max-model-len", [&](const std::string& f, const std::string& v) { o.max_model_len = whole_number(f, v); });
    with_value("--video-loader", [&o](const std::string&, const std::string& v) {
        if (v == "qwen3_vl")
            o.loader = VideoLoader::qwen3_vl;
        else if (v == "opencv")
            o.loader = VideoLoader::opencv;
        else
            throw std::invalid_argument("--video-loader must be qwen3_vl or opencv");
    });
    with_value("--media-fetch-timeout",
               [&](const std::string& f, const std::string& v) { o.fetch.fetch_timeout_s = static_cast<double>(whole_number(f, v)); });
    with_value("--mm-processor-cache-gb", [&o](const std::string&, const std::string& v) {
        try {
            o.mm_processor_cache_gb = std::stod(v);
        } catch (const std::exception&) {
            throw std::invalid_argument("--mm-processor-cache-gb: '" + v + "' is not a number");
        }
        if (o.mm_processor_cache_gb < 0)
            throw std::invalid_argument("--mm-processor-cache-gb must not be negative");
    });
    with_value("--answer-padding-bytes", into_int(o.answer_padding_bytes));
    with_value("--fault-first-byte-delay-ms", into_int(o.faults.first_byte_delay_ms));
    with_value("--fault-chunk-delay-ms", into_int(o.faults.chunk_delay_ms));
    with_value("--fault-drop-after-chunks", into_int(o.faults.drop_after_chunks));
    with_value("--fault-error-after-chunks", into_int(o.faults.error_after_chunks));
    with_value("--fault-status", into_int(o.faults.status));
    with_value("--fault-fail-first", into_int(o.faults.fail_first));
    app.add_option("--fault-body", o.faults.body);
    app.add_flag("--fault-hang", o.faults.hang);
    app.add_flag("--fault-from-prompt", o.faults.from_prompt);
    // vLLM flags that change nothing here.
    std::string ignored;
    for (const char* flag : {"--gpu-memory-utilization", "--max-num-seqs", "--dtype", "--quantization", "--tensor-parallel-size",
                             "--download-dir", "--api-key", "--mm-processor-kwargs", "--kv-cache-dtype"})
        app.add_option(flag, ignored);
    for (const char* flag : {"--trust-remote-code", "--enforce-eager", "--disable-log-requests", "--enable-prefix-caching"})
        app.add_flag(flag);

    std::vector<std::string> reversed(args.rbegin(), args.rend()); // CLI11 takes its arguments last first
    try {
        app.parse(reversed);
    } catch (const CLI::ParseError& e) {
        throw std::invalid_argument(e.what());
    }
    for (const std::string& extra : app.remaining())
        throw std::invalid_argument((!extra.empty() && extra[0] == '-' ? "unknown option " : "unexpected argument ") + extra);
    if (o.port < 0 || o.port > 65535)
        throw std::invalid_argument("--port must be 0..65535");
    return o;
}

} // namespace jarvis::emulator
