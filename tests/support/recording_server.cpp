#include "recording_server.hpp"

#include "child_process.hpp"
#include "fixtures.hpp"

#include <httplib.h>

#include <chrono>
#include <csignal>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace jarvis::test {
namespace {

constexpr auto patience = std::chrono::seconds(60); // a hang fails the test instead of blocking it
const char* const chat_completion = R"({"choices":[{"message":{"content":"ok"},"finish_reason":"stop"}]})";

} // namespace

struct RecordingServer::State
{
    httplib::Server server;
    int port = 0;
    std::thread thread;
    std::mutex mutex;
    std::condition_variable changed;
    size_t receiving = 0;
    std::vector<Request> requests;
    struct Reply
    {
        int status;
        std::string body;
    };
    std::vector<Reply> replies;
};

RecordingServer::RecordingServer() : state_(std::make_unique<State>())
{
    State& s = *state_;
    s.server.Post("/v1/chat/completions", [&s](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& read) {
        std::string body;
        {
            std::lock_guard lock(s.mutex);
            s.receiving = 0;
        }
        const bool whole = read([&](const char* data, size_t size) {
            body.append(data, size);
            std::lock_guard lock(s.mutex);
            s.receiving = body.size();
            s.changed.notify_all();
            return true;
        });
        int status = 200;
        std::string reply = chat_completion;
        {
            std::lock_guard lock(s.mutex);
            s.requests.push_back({body, whole, req.get_header_value("Transfer-Encoding"), req.get_header_value("Expect")});
            if (!s.replies.empty()) {
                status = s.replies.front().status;
                reply = std::move(s.replies.front().body);
                s.replies.erase(s.replies.begin());
            }
            s.changed.notify_all();
        }
        res.status = status;
        res.set_content(reply, "application/json");
    });
    s.port = s.server.bind_to_any_port("127.0.0.1");
    s.thread = std::thread([&s] { s.server.listen_after_bind(); });
}

RecordingServer::~RecordingServer()
{
    state_->server.stop();
    state_->thread.join();
}

std::string RecordingServer::base_url() const { return "http://127.0.0.1:" + std::to_string(state_->port) + "/v1"; }

void RecordingServer::reply_with(std::vector<int> statuses)
{
    std::lock_guard lock(state_->mutex);
    state_->replies.clear();
    for (const int status : statuses)
        state_->replies.push_back({status, status == 200 ? chat_completion : R"({"error":{"message":"busy"}})"});
}

void RecordingServer::reply_first_with(int status, std::string body)
{
    std::lock_guard lock(state_->mutex);
    state_->replies = {{status, std::move(body)}};
}

bool RecordingServer::wait_for_body(size_t bytes)
{
    std::unique_lock lock(state_->mutex);
    return state_->changed.wait_for(lock, patience, [&] { return state_->receiving >= bytes; });
}

std::vector<RecordingServer::Request> RecordingServer::wait_for_requests(size_t count)
{
    std::unique_lock lock(state_->mutex);
    state_->changed.wait_for(lock, patience, [&] { return state_->requests.size() >= count; });
    return state_->requests;
}

std::filesystem::path slow_to_decode_video()
{
    return make_video("slow_to_decode_1080p_20s.mp4", {"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-t", "20", "-c:v",
                                                       "libx264", "-preset", "ultrafast", "-g", "300", "-pix_fmt", "yuv420p"});
}

InterruptedRequest interrupt_once_body_began(RecordingServer& server, ChildProcess& host, size_t bytes)
{
    InterruptedRequest out;
    if (!server.wait_for_body(bytes))
        return out;
    host.signal(SIGINT);
    out.exit_code = host.wait_for(std::chrono::seconds(60));
    const auto requests = server.wait_for_requests(1);
    if (!requests.empty())
        out.request = requests.front();
    return out;
}

} // namespace jarvis::test
