#include "emulator_options.hpp"

#include <filesystem>
#include <set>
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
    // vLLM flags that change nothing here, each taking a value.
    const std::set<std::string> ignored_with_value = {"--gpu-memory-utilization", "--max-num-seqs", "--dtype",
                                                      "--quantization", "--tensor-parallel-size", "--download-dir",
                                                      "--api-key", "--mm-processor-kwargs", "--kv-cache-dtype"};
    const std::set<std::string> ignored_flags = {"--trust-remote-code", "--enforce-eager", "--disable-log-requests",
                                                 "--enable-prefix-caching"};
    auto parse_json = [](const std::string& flag, const std::string& text) {
        try {
            auto j = nlohmann::json::parse(text);
            if (!j.is_object())
                throw std::invalid_argument(flag + " must be a JSON object");
            return j;
        } catch (const nlohmann::json::parse_error&) {
            throw std::invalid_argument(flag + " must be JSON (since vLLM 0.10, e.g. '{\"video\": 1}'), got: " + text);
        }
    };
    auto to_int = [](const std::string& flag, const std::string& v) {
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

    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= args.size())
                throw std::invalid_argument(a + " needs a value");
            return args[++i];
        };
        if (a == "--host")
            o.host = value();
        else if (a == "--port")
            o.port = static_cast<int>(to_int(a, value()));
        else if (a == "--served-model-name" || a == "--model")
            o.served_model_name = value();
        else if (a == "--allowed-local-media-path") {
            const std::string dir = value();
            namespace fs = std::filesystem;
            std::error_code ec;
            if (!fs::exists(dir, ec))
                throw std::invalid_argument("Invalid `--allowed-local-media-path`: The path " + dir + " does not exist.");
            if (!fs::is_directory(dir, ec))
                throw std::invalid_argument("Invalid `--allowed-local-media-path`: The path " + dir + " must be a directory.");
            o.fetch.allowed_local_media_path = fs::canonical(dir);
        } else if (a == "--limit-mm-per-prompt")
            o.limit_mm_per_prompt = parse_json(a, value());
        else if (a == "--media-io-kwargs")
            o.media_io_kwargs = parse_json(a, value());
        else if (a == "--max-model-len")
            o.max_model_len = to_int(a, value());
        else if (a == "--video-loader") {
            const std::string v = value();
            if (v == "qwen3_vl")
                o.loader = VideoLoader::qwen3_vl;
            else if (v == "opencv")
                o.loader = VideoLoader::opencv;
            else
                throw std::invalid_argument("--video-loader must be qwen3_vl or opencv");
        } else if (a == "--media-fetch-timeout")
            o.fetch.fetch_timeout_s = static_cast<double>(to_int(a, value()));
        else if (a == "--mm-processor-cache-gb") {
            const std::string v = value();
            try {
                o.mm_processor_cache_gb = std::stod(v);
            } catch (const std::exception&) {
                throw std::invalid_argument("--mm-processor-cache-gb: '" + v + "' is not a number");
            }
            if (o.mm_processor_cache_gb < 0)
                throw std::invalid_argument("--mm-processor-cache-gb must not be negative");
        } else if (a == "--answer-padding-bytes")
            o.answer_padding_bytes = static_cast<int>(to_int(a, value()));
        else if (a == "--fault-first-byte-delay-ms")
            o.faults.first_byte_delay_ms = static_cast<int>(to_int(a, value()));
        else if (a == "--fault-chunk-delay-ms")
            o.faults.chunk_delay_ms = static_cast<int>(to_int(a, value()));
        else if (a == "--fault-drop-after-chunks")
            o.faults.drop_after_chunks = static_cast<int>(to_int(a, value()));
        else if (a == "--fault-error-after-chunks")
            o.faults.error_after_chunks = static_cast<int>(to_int(a, value()));
        else if (a == "--fault-status")
            o.faults.status = static_cast<int>(to_int(a, value()));
        else if (a == "--fault-body")
            o.faults.body = value();
        else if (a == "--fault-hang")
            o.faults.hang = true;
        else if (a == "--fault-fail-first")
            o.faults.fail_first = static_cast<int>(to_int(a, value()));
        else if (a == "--fault-from-prompt")
            o.faults.from_prompt = true;
        else if (ignored_with_value.count(a))
            value();
        else if (ignored_flags.count(a))
            continue;
        else if (!a.empty() && a[0] != '-')
            o.served_model_name = a; // `vllm serve MODEL`
        else
            throw std::invalid_argument("unknown option " + a);
    }
    if (o.port < 0 || o.port > 65535)
        throw std::invalid_argument("--port must be 0..65535");
    return o;
}

} // namespace jarvis::emulator
