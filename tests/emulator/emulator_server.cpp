#include "emulator_server.hpp"

#include <httplib.h>

#include <chrono>
#include <iostream>
#include <thread>

namespace jarvis::emulator {
namespace {

using nlohmann::json;

void send_json(httplib::Response& res, int status, const json& body)
{
    res.status = status;
    res.set_content(body.dump(), "application/json");
}

std::string sse(const json& event) { return "data: " + event.dump() + "\n\n"; }

} // namespace

EmulatorServer::EmulatorServer(EmulatorOptions options)
    : options_(options), service_(std::move(options)), server_(std::make_unique<httplib::Server>())
{
    // Requests that wait (hangs, slow chunks) hold a thread each; the default pool of 8 is too few for a soak.
    server_->new_task_queue = [] { return new httplib::ThreadPool(32); };
    // vLLM's server (uvicorn) sets no time limit on a request's body while it arrives; httplib's default of 5 s
    // refused a body sent while its frames are decoded, paused by a long decode, with 400 and no body. Ten minutes
    // only frees the thread of a client that went silent.
    server_->set_read_timeout(600, 0);
    add_routes();
}

EmulatorServer::~EmulatorServer() = default;

int EmulatorServer::bind()
{
    const int port = options_.port == 0 ? server_->bind_to_any_port(options_.host)
                                        : (server_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
    if (port < 0)
        throw std::runtime_error("cannot listen on " + options_.host + ":" + std::to_string(options_.port));
    return port;
}

void EmulatorServer::serve() { server_->listen_after_bind(); }

void EmulatorServer::stop()
{
    stopping_ = true;
    server_->stop();
}

void EmulatorServer::add_routes()
{
    server_->set_payload_max_length(1ULL << 31);
    server_->Get("/health", [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
    server_->Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) { send_json(res, 200, service_.models()); });

    server_->Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
        const Faults f = faults_for_request(options_.faults, req.body);
        const int number = ++chat_requests_;
        // Tests synchronise on this line: the request is on the server, whatever it does next.
        std::cerr << "vlm-emulator: chat request " << number << " received (" << req.body.size() << " bytes)" << std::endl;
        if (f.hang) {
            const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(f.hang_limit_ms);
            while (!stopping_ && (f.hang_limit_ms < 0 || std::chrono::steady_clock::now() < until))
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            return;
        }
        if (f.first_byte_delay_ms > 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(f.first_byte_delay_ms));
        if (number <= f.fail_first) {
            send_json(res, 503, {{"error", {{"message", "Service Unavailable: the engine is starting"}, {"type", "ServiceUnavailableError"}, {"param", nullptr}, {"code", 503}}}});
            return;
        }
        if (f.status != 0) {
            res.status = f.status;
            res.set_content(f.body, "text/plain");
            return;
        }

        auto reply = std::make_shared<ChatReply>(service_.handle(req.body));
        if (!reply->report.is_null())
            std::cerr << "vlm-emulator: chat request " << number << " report " << reply->report.dump() << std::endl;
        if (!reply->stream) {
            send_json(res, reply->status, reply->body);
            return;
        }
        res.set_header("Cache-Control", "no-cache");
        res.set_chunked_content_provider("text/event-stream", [reply, faults = f](size_t, httplib::DataSink& sink) {
            int content_sent = 0;
            for (const json& chunk : reply->chunks) {
                const bool has_content = !chunk["choices"].empty() && chunk["choices"][0]["delta"].contains("content") &&
                                         !chunk["choices"][0]["delta"]["content"].get<std::string>().empty();
                if (has_content && content_sent == faults.drop_after_chunks)
                    return false; // the connection closes without the stream's end
                if (has_content && content_sent == faults.error_after_chunks) {
                    const json error = {{"error", {{"message", "EngineCore encountered an issue. See stack trace for the root cause."},
                                                   {"type", "InternalServerError"}, {"param", nullptr}, {"code", 500}}}};
                    const std::string event = sse(error) + "data: [DONE]\n\n";
                    sink.write(event.data(), event.size());
                    sink.done();
                    return true;
                }
                const std::string event = sse(chunk);
                // Two writes, cut inside the event (and inside a UTF-8 sequence when there is one), because TCP may
                // cut anywhere and a client must reassemble lines and characters.
                size_t cut = event.size() / 2;
                for (size_t i = 6; i + 1 < event.size(); ++i)
                    if ((static_cast<unsigned char>(event[i]) & 0xC0) == 0x80) {
                        cut = i;
                        break;
                    }
                // What vLLM does when the client hangs up is abort the generation; saying so lets tests see it.
                auto hung_up = [&] {
                    std::cerr << "vlm-emulator: the client closed the stream after " << content_sent << " chunks" << std::endl;
                    return false;
                };
                if (!sink.write(event.data(), cut))
                    return hung_up();
                if (faults.chunk_delay_ms > 0)
                    std::this_thread::sleep_for(std::chrono::milliseconds(faults.chunk_delay_ms / 2 + 1));
                if (!sink.write(event.data() + cut, event.size() - cut))
                    return hung_up();
                if (has_content)
                    ++content_sent;
                if (faults.chunk_delay_ms > 0)
                    std::this_thread::sleep_for(std::chrono::milliseconds(faults.chunk_delay_ms));
            }
            const std::string done = "data: [DONE]\n\n";
            sink.write(done.data(), done.size());
            sink.done();
            return true;
        });
        res.status = 200;
    });
    server_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
        // Only for paths no route serves: a route's own 404 (an unknown model) keeps its body.
        if (res.status == 404 && res.body.empty())
            send_json(res, 404, {{"detail", "Not Found"}});
    });
}

} // namespace jarvis::emulator
