#pragma once

#include <filesystem>
#include <memory>
#include <optional>
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
    void reply_first_with(int status, std::string body); // then a chat completion

    // Wait (up to a minute, then fail) until the request under way has received `bytes` bytes of its body, or until
    // `count` requests have ended (whole or not), and return them.
    bool wait_for_body(size_t bytes);
    std::vector<Request> wait_for_requests(size_t count);

private:
    struct State;
    std::unique_ptr<State> state_;
};

class ChildProcess;

// 20 s of 1080p with a keyframe every 10 s: at fps=2 its 40 frames each come from their own stretch of P-frames,
// seconds of decoding while a request sent during it is open.
std::filesystem::path slow_to_decode_video();

// The request a jarvis-host process was sending when it was interrupted.
struct InterruptedRequest
{
    std::optional<int> exit_code;
    std::optional<RecordingServer::Request> request;
};

// Sends `host` SIGINT as soon as `server` has received `bytes` of a request body, then waits (up to a minute each)
// for the process to end and the request with it.
InterruptedRequest interrupt_once_body_began(RecordingServer& server, ChildProcess& host, size_t bytes);

} // namespace jarvis::test
