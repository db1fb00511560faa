// What the media-server fuzz target does with one input, shared with the test that replays every input it once
// crashed on (tests/fuzz/regressions/fuzz_media_server/).
#pragma once

#include "http/media_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>

namespace jarvis::fuzz {

namespace detail {

// The served file: every byte tells its offset apart from its neighbours', so a wrong range shows.
inline std::string served_bytes()
{
    std::string bytes(64 * 1024 + 17, '\0');
    for (size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = static_cast<char>((i * 7 + i / 251) % 256);
    return bytes;
}

struct ServedFile
{
    std::filesystem::path path;
    std::string bytes = served_bytes();
    std::unique_ptr<MediaServer> server;
    std::string url_path;

    ServedFile()
    {
        path = std::filesystem::temp_directory_path() / ("jarvis-fuzz-media-" + std::to_string(::getpid()) + ".mp4");
        std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        server = std::make_unique<MediaServer>("127.0.0.1", "127.0.0.1", path, "video/mp4");
        url_path = server->url().substr(server->url().find('/', std::string("http://").size()));
    }
    ~ServedFile()
    {
        server.reset();
        std::filesystem::remove(path);
    }
};

// Sends the bytes, closes the sending side, reads the answer until the server closes. Aborts when the server goes
// 60 s without a byte or a close (a hang: httplib's own read and write timeouts are 5 s; a 10 s limit once fired on
// a machine at load 9 for an input that answers in 25 ms otherwise).
inline std::string exchange(int port, const std::string& request)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        std::abort();
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        std::fprintf(stderr, "fuzz_media_server: connect: %s\n", std::strerror(errno));
        std::abort(); // the server stopped listening
    }
    for (size_t sent = 0; sent < request.size();) {
        const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break; // the server may close early on a bad request
        sent += static_cast<size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    std::string answer;
    char buffer[16384];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 60000) <= 0)
            std::abort(); // no answer and no close: the server hangs
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0)
            break;
        answer.append(buffer, static_cast<size_t>(n));
    }
    // Closed with a reset, not into TIME_WAIT: a hundred exchanges a second would otherwise use up the ephemeral ports
    // within minutes (connect then fails with EADDRNOTAVAIL, which is the harness's limit, not the server's).
    const linger reset{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    ::close(fd);
    return answer;
}

} // namespace detail

// One HTTP exchange with a media server that serves a file: the first byte picks whether the input is the whole
// request, the headers after a GET of the file's path, or a Range header's value. The server answers or closes,
// never hangs or crashes, and whatever part of the file it sends is the right part.
inline void media_server_request(const uint8_t* data, size_t size)
{
    if (size == 0)
        return;
    static detail::ServedFile served;
    const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string request;
    switch (data[0] % 3) {
    case 0: request = rest; break;
    case 1: request = "GET " + served.url_path + " HTTP/1.1\r\n" + rest; break;
    default: request = "GET " + served.url_path + " HTTP/1.1\r\nHost: fuzz\r\nRange: bytes=" + rest + "\r\n\r\n"; break;
    }
    const std::string answer = detail::exchange(served.server->port(), request);

    // The first response: a 200 carries the whole file, a single-range 206 exactly the bytes it names.
    const size_t head_end = answer.find("\r\n\r\n");
    if (head_end == std::string::npos)
        return;
    const std::string head = answer.substr(0, head_end);
    std::smatch m;
    if (!std::regex_search(head, m, std::regex(R"(^HTTP/1\.1 (\d{3}))")))
        std::abort(); // not an HTTP response
    const int status = std::stoi(m[1].str());
    std::smatch length;
    if (!std::regex_search(head, length, std::regex(R"(\r\nContent-Length: (\d+))", std::regex::icase)))
        return;
    const size_t body_size = std::stoul(length[1].str());
    const std::string body = answer.substr(head_end + 4, body_size);
    const bool head_request = request.rfind("HEAD ", 0) == 0;
    if (head_request || body.size() < body_size)
        return; // no body, or the server closed before sending it all (a client that hung up)
    if (status == 200 && head.find("Content-Type: video/mp4") != std::string::npos && body != served.bytes) {
        std::fprintf(stderr, "fuzz_media_server: a 200 with other bytes than the file\n--- response head\n%s\n", head.c_str());
        std::abort();
    }
    std::smatch range;
    if (status == 206 && std::regex_search(head, range, std::regex(R"(\r\nContent-Range: bytes (\d+)-(\d+)/(\d+))", std::regex::icase))) {
        const size_t first = std::stoul(range[1].str()), last = std::stoul(range[2].str());
        if (std::stoul(range[3].str()) != served.bytes.size() || last < first || last >= served.bytes.size() ||
            body != served.bytes.substr(first, last - first + 1)) {
            std::fprintf(stderr, "fuzz_media_server: a 206 with other bytes than its range\n--- request\n%s\n--- response head\n%s\n"
                         "--- body %zu bytes\n", request.c_str(), head.c_str(), body.size());
            std::abort(); // the wrong bytes for the range it says it sends
        }
    }
}

} // namespace jarvis::fuzz
