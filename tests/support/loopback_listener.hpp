#pragma once

#include <string>

namespace jarvis::test {

// A TCP listener on a free loopback port, for servers that must misbehave in ways a real HTTP library will not
// (never answer, answer before the body, end a body by closing). The kernel queues connections from the start;
// nothing is accepted until accept() is called.
class LoopbackListener
{
public:
    LoopbackListener();
    ~LoopbackListener();
    LoopbackListener(const LoopbackListener&) = delete;
    LoopbackListener& operator=(const LoopbackListener&) = delete;

    int port() const { return port_; }
    std::string url(const std::string& path) const; // http://127.0.0.1:<port><path>

    // The next connection, or -1 once stop() was called. The caller closes it.
    int accept();
    // Ends a wait in accept(), from another thread.
    void stop();

private:
    int fd_ = -1;
    int port_ = 0;
};

// Reads from `connection` until the end of a request's headers (or of the connection): what was read.
std::string read_request_head(int connection);

// Writes all of `bytes`; false if the peer went away.
bool send_all(int connection, const std::string& bytes);

} // namespace jarvis::test
