#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace jarvis {

// Serves exactly one file, for as long as the object lives, under an unguessable path (128 random bits):
// GET and HEAD, Range requests, Content-Length and Content-Type; 404 for anything else. Each instance listens on a
// free port of its own, so concurrent requests never share a path.
class MediaServer
{
public:
    // `bind` is the address to listen on; `advertise` the host name the vLLM server reaches it by (for a server in
    // Docker on this machine, host.docker.internal). Throws ConfigError when it cannot listen.
    MediaServer(const std::string& bind, const std::string& advertise, const std::filesystem::path& file, const std::string& mime);
    ~MediaServer();
    MediaServer(const MediaServer&) = delete;
    MediaServer& operator=(const MediaServer&) = delete;

    const std::string& url() const { return url_; }
    int port() const { return port_; }
    int requests_served() const { return served_; }

private:
    std::unique_ptr<httplib::Server> server_;
    std::thread thread_;
    std::string url_;
    int port_ = 0;
    std::atomic<int> served_{0};
    std::atomic<bool> listen_returned_{false};
};

// The URL form a MediaServer would get, for plans (which start no server): "http://ADVERTISE:PORT/media/TOKEN/name".
std::string media_url_preview(const std::string& advertise, const std::filesystem::path& file);

} // namespace jarvis
