#include "folder_server.hpp"

#include <httplib.h>

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace jarvis::test {

struct FolderServer::State
{
    httplib::Server server;
    std::mutex mutex;
    std::condition_variable released;
    bool stopping = false;
    int port = 0;
    std::thread thread;
};

FolderServer::FolderServer(const std::filesystem::path& folder, const std::vector<std::string>& silent) : state_(std::make_unique<State>())
{
    State& s = *state_;
    if (!s.server.set_mount_point("/", folder.string()))
        throw std::runtime_error("cannot serve " + folder.string());
    // Each request for a silent name holds a worker until the end (a client gives up and asks again): more workers
    // than httplib's 8, so that the other files are still served.
    s.server.new_task_queue = [] { return new httplib::ThreadPool(64); };
    for (const std::string& name : silent)
        s.server.Get("/" + name, [&s](const httplib::Request&, httplib::Response& res) {
            std::unique_lock lock(s.mutex);
            s.released.wait(lock, [&s] { return s.stopping; });
            res.status = 503;
        });
    s.port = s.server.bind_to_any_port("127.0.0.1");
    if (s.port <= 0)
        throw std::runtime_error("no loopback port for the folder server");
    s.thread = std::thread([&s] { s.server.listen_after_bind(); });
}

FolderServer::~FolderServer()
{
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->released.notify_all();
    state_->server.stop();
    state_->thread.join();
}

std::string FolderServer::url(const std::string& name) const { return "http://127.0.0.1:" + std::to_string(state_->port) + "/" + name; }

} // namespace jarvis::test
