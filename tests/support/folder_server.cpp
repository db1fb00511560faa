#include "folder_server.hpp"

#include <httplib.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace jarvis::test {

struct FolderServer::State
{
    httplib::Server server;
    std::mutex mutex;
    std::condition_variable released;
    std::condition_variable asked; // a request arrived
    std::map<std::string, size_t> requests; // by path, under `mutex`
    bool stopping = false;
    std::map<std::string, size_t> sent; // by path, under `mutex`
    std::set<std::string> silent;       // paths never answered
    int answering = 0;                  // requests of other paths not yet answered, under `mutex`
    std::condition_variable answered;   // one of them was
    int port = 0;
    std::thread thread;
};

FolderServer::FolderServer(const std::filesystem::path& folder, const std::vector<std::string>& silent,
                           const std::map<std::string, std::string>& redirects)
    : state_(std::make_unique<State>())
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
    for (const std::string& name : silent)
        s.silent.insert("/" + name);
    for (const auto& [from, to] : redirects)
        s.server.Get("/" + from, [to = to](const httplib::Request&, httplib::Response& res) { res.set_redirect("/" + to); });
    s.server.set_pre_routing_handler([&s](const httplib::Request& req, httplib::Response&) {
        {
            std::lock_guard lock(s.mutex);
            ++s.requests[req.path];
            s.answering += s.silent.count(req.path) == 0 ? 1 : 0;
        }
        s.asked.notify_all();
        return httplib::Server::HandlerResponse::Unhandled;
    });
    // Called once a response is written: a file's body is then what was sent of it (a range's bytes for a range).
    s.server.set_logger([&s](const httplib::Request& req, const httplib::Response& res) {
        {
            std::lock_guard lock(s.mutex);
            s.sent[req.path] += res.body.size();
            s.answering -= s.silent.count(req.path) == 0 ? 1 : 0;
        }
        s.answered.notify_all();
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

bool FolderServer::requested(const std::string& name, std::chrono::seconds within) const
{
    std::unique_lock lock(state_->mutex);
    return state_->asked.wait_for(lock, within, [&] { return state_->requests.count("/" + name) != 0; });
}

size_t FolderServer::bytes_sent(const std::string& name) const
{
    // A client may finish with a response before the server's thread has counted it: the count waits for that.
    std::unique_lock lock(state_->mutex);
    state_->answered.wait_for(lock, std::chrono::seconds(30), [&] { return state_->answering == 0; });
    const auto it = state_->sent.find("/" + name);
    return it == state_->sent.end() ? 0 : it->second;
}

size_t FolderServer::requests(const std::string& name) const
{
    std::lock_guard lock(state_->mutex);
    const auto it = state_->requests.find("/" + name);
    return it == state_->requests.end() ? 0 : it->second;
}

std::string FolderServer::url(const std::string& name) const { return "http://127.0.0.1:" + std::to_string(state_->port) + "/" + name; }

} // namespace jarvis::test
