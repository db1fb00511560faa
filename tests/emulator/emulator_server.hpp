#pragma once

#include "chat_service.hpp"
#include "emulator_options.hpp"

#include <atomic>
#include <memory>

namespace httplib {
class Server;
}

namespace jarvis::emulator {

// vLLM's HTTP surface: GET /health, GET /v1/models, POST /v1/chat/completions (streaming as server-sent events),
// with the faults of EmulatorOptions applied to chat requests.
class EmulatorServer
{
public:
    explicit EmulatorServer(EmulatorOptions options);
    ~EmulatorServer();

    // Binds; returns the port (the chosen one when options.port is 0). Throws std::runtime_error when it cannot.
    int bind();
    // Serves until stop() is called.
    void serve();
    void stop();

private:
    void add_routes();

    EmulatorOptions options_;
    ChatService service_;
    std::unique_ptr<httplib::Server> server_;
    std::atomic<int> chat_requests_{0};
    std::atomic<bool> stopping_{false};
};

} // namespace jarvis::emulator
