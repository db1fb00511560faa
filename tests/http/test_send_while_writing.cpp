// send_while_writing: a body written on a thread of its own while the request goes out. A server that refuses a
// chunked body with 411 before it is whole (a proxy reading headers only) lets the writing finish, so that what it
// made (a long video's frames) is at hand for the request sent again whole, not made a second time.
#include "http/send_while_writing.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

using namespace jarvis;

namespace {

constexpr auto patience = std::chrono::seconds(60); // a hang fails the test instead of blocking it

// Answers one request with 411 as soon as its headers are in, then reads (and drops) whatever else the client sends
// until it closes the connection, as a proxy that takes no chunked body does.
class EarlyRefusal
{
public:
    EarlyRefusal()
    {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listener_, 1) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
            throw std::runtime_error("cannot listen on loopback");
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~EarlyRefusal()
    {
        ::shutdown(listener_, SHUT_RDWR); // ends a wait in accept
        thread_.join();
        ::close(listener_);
    }
    EarlyRefusal(const EarlyRefusal&) = delete;
    EarlyRefusal& operator=(const EarlyRefusal&) = delete;

    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

    bool wait_until_refused()
    {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, patience, [this] { return refused_; });
    }

private:
    void serve()
    {
        const int connection = ::accept(listener_, nullptr, nullptr);
        if (connection < 0)
            return;
        std::string received;
        char buffer[4096];
        while (received.find("\r\n\r\n") == std::string::npos) {
            const ssize_t n = ::recv(connection, buffer, sizeof buffer, 0);
            if (n <= 0)
                break;
            received.append(buffer, static_cast<size_t>(n));
        }
        const std::string body = R"({"error":{"message":"chunked bodies are not accepted"}})";
        const std::string reply = "HTTP/1.1 411 Length Required\r\nContent-Type: application/json\r\nContent-Length: " +
                                  std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
        ::send(connection, reply.data(), reply.size(), MSG_NOSIGNAL);
        {
            std::lock_guard lock(mutex_);
            refused_ = true;
        }
        changed_.notify_all();
        while (::recv(connection, buffer, sizeof buffer, 0) > 0) {
        }
        ::close(connection);
    }

    int listener_ = -1;
    int port_ = 0;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable changed_;
    bool refused_ = false;
};

} // namespace

TEST_CASE("a body refused with 411 before it is whole is written to its end, not cut short", "[http][streamed][411]")
{
    EarlyRefusal server;
    EndpointConfig endpoint;
    endpoint.base_url = server.base_url();
    endpoint.timeout_s = 60;

    // The host: what reaches it of the writer's progress (only the calling thread relays it).
    struct Host
    {
        std::mutex mutex;
        std::condition_variable changed;
        int steps = 0;
    } host;
    jv_callbacks callbacks{};
    callbacks.struct_size = sizeof callbacks;
    callbacks.user_data = &host;
    callbacks.on_progress = [](void* h, const char*, double) {
        auto& self = *static_cast<Host*>(h);
        {
            std::lock_guard lock(self.mutex);
            ++self.steps;
        }
        self.changed.notify_all();
    };
    const plugin::Call call(&callbacks);

    // After the refusal, each of 20 more pieces is written once the host has had the progress before it: the writing
    // goes on only while the sender keeps relaying, and stops (cancelled) if the sender gives it up.
    constexpr int pieces = 20;
    std::atomic<int> written{0};
    std::atomic<bool> writer_cancelled{false};
    try {
        send_while_writing(endpoint, false, call, [&](StreamedBody& body, const plugin::Call& writer) {
            body.append(R"({"messages":[)");
            if (!server.wait_until_refused())
                throw std::runtime_error("the server never refused");
            const auto deadline = std::chrono::steady_clock::now() + patience;
            for (int i = 1; i <= pieces; ++i) {
                writer.progress("write", double(i) / pieces);
                std::unique_lock lock(host.mutex);
                while (host.steps < i) {
                    if (writer.cancelled()) {
                        writer_cancelled = true;
                        throw plugin::Error(JV_E_CANCELLED, "the sender gave the writing up");
                    }
                    if (std::chrono::steady_clock::now() > deadline)
                        throw std::runtime_error("neither progress nor cancellation was relayed");
                    host.changed.wait_for(lock, std::chrono::milliseconds(10));
                }
                lock.unlock();
                body.append(std::string(i == 1 ? "" : ",") + "\"piece\"");
                ++written;
            }
            body.append("]}");
        });
        FAIL("the refusal was not reported");
    } catch (const plugin::Error& e) {
        INFO(e.what());
        CHECK(e.http_status() == 411);
    }
    CHECK_FALSE(writer_cancelled);
    CHECK(written == pieces);
}

TEST_CASE("cancelling while a body refused with 411 is still being written ends it as cancelled", "[http][streamed][411][cancel]")
{
    EarlyRefusal server;
    EndpointConfig endpoint;
    endpoint.base_url = server.base_url();
    endpoint.timeout_s = 60;
    // The host cancels once 20 of the writer's steps after the refusal have reached it: by then the sender has the 411
    // and is waiting for the writing to finish (the test above), relaying meanwhile.
    struct Host
    {
        std::mutex mutex;
        std::condition_variable changed;
        int steps = 0;
        std::atomic<bool> cancelled{false};
    } host;
    jv_callbacks callbacks{};
    callbacks.struct_size = sizeof callbacks;
    callbacks.user_data = &host;
    callbacks.on_progress = [](void* h, const char*, double) {
        auto& self = *static_cast<Host*>(h);
        {
            std::lock_guard lock(self.mutex);
            if (++self.steps == 20)
                self.cancelled = true;
        }
        self.changed.notify_all();
    };
    callbacks.is_cancelled = [](void* h) { return static_cast<Host*>(h)->cancelled.load() ? 1 : 0; };
    const plugin::Call call(&callbacks);

    std::atomic<bool> writer_cancelled{false};
    try {
        send_while_writing(endpoint, false, call, [&](StreamedBody& body, const plugin::Call& writer) {
            body.append(R"({"messages":[)");
            if (!server.wait_until_refused())
                throw std::runtime_error("the server never refused");
            const auto deadline = std::chrono::steady_clock::now() + patience;
            for (int i = 1;; ++i) {
                writer.progress("write", 0);
                std::unique_lock lock(host.mutex);
                while (host.steps < i) {
                    if (writer.cancelled()) {
                        writer_cancelled = true;
                        throw plugin::Error(JV_E_CANCELLED, "cancelled");
                    }
                    if (std::chrono::steady_clock::now() > deadline)
                        throw std::runtime_error("neither progress nor cancellation was relayed");
                    host.changed.wait_for(lock, std::chrono::milliseconds(10));
                }
                lock.unlock();
                body.append(" ");
            }
        });
        FAIL("the request was not cancelled");
    } catch (const plugin::Error& e) {
        INFO(e.what());
        CHECK(e.code() == JV_E_CANCELLED);
    }
    CHECK(writer_cancelled);
}
