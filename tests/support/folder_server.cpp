#include "folder_server.hpp"

#include <httplib.h>

#include <atomic>
#include <stdexcept>
#include <thread>

namespace jarvis::test {

struct FolderServer::State
{
    httplib::Server server;
    std::atomic<size_t> requests{0};
    int port = 0;
    std::thread thread;
};

FolderServer::FolderServer(const std::filesystem::path& folder) : state_(std::make_unique<State>())
{
    if (!state_->server.set_mount_point("/", folder.string()))
        throw std::runtime_error("cannot serve " + folder.string());
    state_->server.set_logger([this](const httplib::Request&, const httplib::Response&) { ++state_->requests; });
    state_->port = state_->server.bind_to_any_port("127.0.0.1");
    if (state_->port <= 0)
        throw std::runtime_error("no loopback port for the folder server");
    state_->thread = std::thread([this] { state_->server.listen_after_bind(); });
}

FolderServer::~FolderServer()
{
    state_->server.stop();
    state_->thread.join();
}

std::string FolderServer::url(const std::string& name) const { return "http://127.0.0.1:" + std::to_string(state_->port) + "/" + name; }

size_t FolderServer::requests() const { return state_->requests.load(); }

} // namespace jarvis::test
