#include "emulator_options.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <stdexcept>

namespace jarvis::emulator {

const char* emulator_usage()
{
    return R"(usage: vlm-emulator [MODEL] [--host H] [--port P] [--served-model-name NAME] [--model NAME]
                    [--allowed-local-media-path DIR] [--limit-mm-per-prompt JSON] [--media-io-kwargs JSON]
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

EmulatorOptions parse_emulator_options(const std::vector<std::string>& args)
{
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
