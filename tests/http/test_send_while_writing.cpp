// send_while_writing: a body written on a thread of its own while the request goes out. A server that refuses a
// chunked body with 411 before it is whole (a proxy reading headers only) lets the writing finish, so that what it
// made (a long video's frames) is at hand for the request sent again whole, not made a second time.
#include "http/send_while_writing.hpp"

#include <catch2/catch.hpp>

#include "loopback_listener.hpp"

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
    EarlyRefusal() { thread_ = std::thread([this] { serve(); }); } // once every member is made
    ~EarlyRefusal()
    {
        listener_.stop();
        thread_.join();
    }
    EarlyRefusal(const EarlyRefusal&) = delete;
    EarlyRefusal& operator=(const EarlyRefusal&) = delete;

    std::string base_url() const { return listener_.url("/v1"); }

    bool wait_until_refused()
    {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, patience, [this] { return refused_; });
    }

private:
    void serve()
    {
        const int connection = listener_.accept();
        if (connection < 0)
            return;
        jarvis::test::read_request_head(connection);
        const std::string body = R"({"error":{"message":"chunked bodies are not accepted"}})";
        jarvis::test::send_all(connection, "HTTP/1.1 411 Length Required\r\nContent-Type: application/json\r\nContent-Length: " +
                                               std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
        {
            std::lock_guard lock(mutex_);
            refused_ = true;
        }
        changed_.notify_all();
        char buffer[4096];
        while (::recv(connection, buffer, sizeof buffer, 0) > 0) {
        }
        ::close(connection);
    }

    jarvis::test::LoopbackListener listener_;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable changed_;
    bool refused_ = false;
};

// The host of a call: counts the writer's progress that reaches it (only the sending thread relays it) and, from
// `cancel_at` steps on, says the call is cancelled.
class RelayingHost
{
public:
    explicit RelayingHost(int cancel_at = 0) : cancel_at_(cancel_at)
    {
        callbacks_.struct_size = sizeof callbacks_;
        callbacks_.user_data = this;
        callbacks_.on_progress = [](void* self, const char*, double) { static_cast<RelayingHost*>(self)->stepped(); };
        callbacks_.is_cancelled = [](void* self) { return static_cast<RelayingHost*>(self)->cancelled_.load() ? 1 : 0; };
    }
    plugin::Call call() const { return plugin::Call(&callbacks_); }

    // After the refusal, writes `pieces` pieces, each once the host has had the progress before it: the writing goes on
    // only while the sender keeps relaying. Throws JV_E_CANCELLED (setting `writer_cancelled`) when the writer is
    // cancelled, and gives up after a minute if nothing is relayed.
    void write_relayed(StreamedBody& body, const plugin::Call& writer, int pieces, std::atomic<bool>& writer_cancelled)
    {
        const auto deadline = std::chrono::steady_clock::now() + patience;
        for (int i = 1; i <= pieces; ++i) {
            writer.progress("write", double(i) / pieces);
            std::unique_lock lock(mutex_);
            while (steps_ < i) {
                if (writer.cancelled()) {
                    writer_cancelled = true;
                    throw plugin::Error(JV_E_CANCELLED, "the sender gave the writing up");
                }
                if (std::chrono::steady_clock::now() > deadline)
                    throw std::runtime_error("neither progress nor cancellation was relayed");
                changed_.wait_for(lock, std::chrono::milliseconds(10));
            }
            lock.unlock();
            body.append(std::string(i == 1 ? "" : ",") + "\"piece\"");
        }
    }

private:
    void stepped()
    {
        {
            std::lock_guard lock(mutex_);
            if (++steps_ == cancel_at_)
                cancelled_ = true;
        }
        changed_.notify_all();
    }

    int cancel_at_;
    jv_callbacks callbacks_{};
    std::mutex mutex_;
    std::condition_variable changed_;
    int steps_ = 0;
    std::atomic<bool> cancelled_{false};
};

EndpointConfig endpoint_of(const EarlyRefusal& server)
{
    EndpointConfig endpoint;
    endpoint.base_url = server.base_url();
    endpoint.timeout_s = 60;
    return endpoint;
}

} // namespace

TEST_CASE("a body refused with 411 before it is whole is written to its end, not cut short", "[http][streamed][411]")
{
    EarlyRefusal server;
    RelayingHost host;
    // After the refusal 20 more pieces are written: cancelled if the sender gives the writing up.
    constexpr int pieces = 20;
    std::atomic<bool> writer_cancelled{false};
    bool whole = false;
    try {
        send_while_writing(endpoint_of(server), false, host.call(), [&](StreamedBody& body, const plugin::Call& writer) {
            body.append(R"({"messages":[)");
            if (!server.wait_until_refused())
                throw std::runtime_error("the server never refused");
            host.write_relayed(body, writer, pieces, writer_cancelled);
            body.append("]}");
            whole = true;
        });
        FAIL("the refusal was not reported");
    } catch (const plugin::Error& e) {
        INFO(e.what());
        CHECK(e.http_status() == 411);
    }
    CHECK_FALSE(writer_cancelled);
    CHECK(whole);
}

TEST_CASE("cancelling while a body refused with 411 is still being written ends it as cancelled", "[http][streamed][411][cancel]")
{
    EarlyRefusal server;
    // The host cancels once 20 of the writer's steps after the refusal have reached it: by then the sender has the 411
    // and is waiting for the writing to finish (the test above), relaying meanwhile. Were the cancellation not relayed,
    // the writing would end after its 1000 pieces and the 411 would be reported.
    RelayingHost host(20);
    std::atomic<bool> writer_cancelled{false};
    try {
        send_while_writing(endpoint_of(server), false, host.call(), [&](StreamedBody& body, const plugin::Call& writer) {
            body.append(R"({"messages":[)");
            if (!server.wait_until_refused())
                throw std::runtime_error("the server never refused");
            host.write_relayed(body, writer, 1000, writer_cancelled);
            body.append("]}");
        });
        FAIL("the request was not cancelled");
    } catch (const plugin::Error& e) {
        INFO(e.what());
        CHECK(e.code() == JV_E_CANCELLED);
    }
    CHECK(writer_cancelled);
}
