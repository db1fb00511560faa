// vlm-emulator: an OpenAI-compatible server that behaves like vLLM serving Qwen3-VL (docs/contract.md, "vlm-emulator").
#include "emulator_options.hpp"
#include "emulator_server.hpp"

#include <csignal>
#include <iostream>
#include <pthread.h>
#include <thread>

int main(int argc, char** argv)
{
    using namespace jarvis::emulator;
    const std::vector<std::string> args(argv + 1, argv + argc);
    for (const auto& a : args)
        if (a == "--help" || a == "-h") {
            std::cout << emulator_usage();
            return 0;
        }
    EmulatorOptions options;
    try {
        options = parse_emulator_options(args);
    } catch (const std::exception& e) {
        std::cerr << "vlm-emulator: " << e.what() << std::endl;
        return 2;
    }

    // SIGINT and SIGTERM stop the server from a thread of their own.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    EmulatorServer server(options);
    int port = 0;
    try {
        port = server.bind();
    } catch (const std::exception& e) {
        std::cerr << "vlm-emulator: " << e.what() << std::endl;
        return 1;
    }
    std::thread waiter([&] {
        int signal = 0;
        sigwait(&signals, &signal);
        server.stop();
    });
    std::cout << "listening on http://" << options.host << ":" << port << std::endl;
    server.serve();
    pthread_kill(waiter.native_handle(), SIGTERM); // wakes the waiter when the server stopped by itself
    waiter.join();
    return 0;
}
