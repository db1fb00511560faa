#pragma once

#include <memory>
#include <string>
#include <vector>

namespace jarvis::test {

// A chat server on a free loopback port that records each request's body as it arrives (whether it arrived whole,
// its Transfer-Encoding and Expect headers), and answers with a chat completion, or first with the statuses given to
// reply_with.
class RecordingServer
{
public:
    struct Request
    {
        std::string body;
        bool whole = false;
        std::string transfer_encoding;
        std::string expect;
    };

    RecordingServer();
    ~RecordingServer();
    RecordingServer(const RecordingServer&) = delete;
    RecordingServer& operator=(const RecordingServer&) = delete;

    std::string base_url() const; // http://127.0.0.1:<port>/v1
    void reply_with(std::vector<int> statuses);

    // Wait (up to a minute, then fail) until the request under way has received `bytes` bytes of its body, or until
    // `count` requests have ended (whole or not), and return them.
    bool wait_for_body(size_t bytes);
    std::vector<Request> wait_for_requests(size_t count);

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace jarvis::test
