#include "http/media_server.hpp"

#include "config/config_error.hpp"
#include "platform/native_path.hpp"

#include <httplib.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <random>
#include <vector>

namespace jarvis {
namespace {

std::string token128()
{
    std::random_device device;
    return fmt::format("{:08x}{:08x}{:08x}{:08x}", device(), device(), device(), device());
}

std::string url_name(const std::filesystem::path& file)
{
    std::string out;
    for (unsigned char c : utf8_path(file.filename()))
        out += std::isalnum(c) || c == '.' || c == '-' || c == '_' ? static_cast<char>(c) : '_';
    return out.empty() ? "video" : out;
}

// RFC 9110's reading of the ranges asked for, which httplib 0.11 leaves to the handler when a content provider
// answers: a suffix "-N" is the last N bytes, an end past the file stops at its last byte, and a range that starts at
// or after the end (or a suffix of 0 bytes) cannot be served. Returns the ranges that can, normalized; none means
// 416 (left alone, httplib would send a 206 whose Content-Range ends before it starts).
httplib::Ranges satisfiable_ranges(const httplib::Ranges& asked, uint64_t size)
{
    httplib::Ranges out;
    const auto last_byte = static_cast<ssize_t>(size) - 1;
    for (auto [first, last] : asked) {
        if (first == -1 && last == -1) { // "bytes=-": the whole file, as httplib reads it
            if (size > 0)
                out.emplace_back(0, last_byte);
            continue;
        }
        if (first == -1) { // the last `last` bytes
            if (last == 0 || size == 0)
                continue;
            first = std::max<ssize_t>(0, static_cast<ssize_t>(size) - last);
            last = last_byte;
        }
        if (first > last_byte)
            continue;
        if (last == -1 || last > last_byte)
            last = last_byte;
        out.emplace_back(first, last);
    }
    return out;
}

std::string host_for_url(const std::string& host)
{
    return host.find(':') != std::string::npos && host.front() != '[' ? "[" + host + "]" : host; // IPv6 literals
}

} // namespace

std::string media_url_preview(const std::string& advertise, const std::filesystem::path& file)
{
    return fmt::format("http://{}:PORT/media/TOKEN/{}", host_for_url(advertise), url_name(file));
}

MediaServer::MediaServer(const std::string& bind, const std::string& advertise, const std::filesystem::path& file, const std::string& mime)
    : server_(std::make_unique<httplib::Server>())
{
    // One server per request, fetched by one client (vLLM, maybe with a few ranges at once): httplib's default
    // pool of 8 threads per server would start 9 threads for every http delivery.
    server_->new_task_queue = [] { return new httplib::ThreadPool(4); };
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (ec)
        throw ConfigError(fmt::format("cannot serve '{}': {}", utf8_path(file), ec.message()));
    const std::string path = "/media/" + token128() + "/" + url_name(file);

    server_->Get(path, [this, file, size, mime](const httplib::Request& req, httplib::Response& res) {
        ++served_;
        if (!req.ranges.empty()) {
            httplib::Ranges ranges = satisfiable_ranges(req.ranges, size);
            if (ranges.empty()) {
                res.status = 416;
                res.set_header("Content-Range", fmt::format("bytes */{}", size));
                return;
            }
            // httplib reads the ranges from the request after this handler: it gets the normalized ones. The
            // request is httplib's own object, not const, for the time of this call.
            const_cast<httplib::Request&>(req).ranges = std::move(ranges);
        }
        // Each request reads through its own stream: the provider below is called on that request's thread only.
        auto in = std::make_shared<std::ifstream>(file, std::ios::binary);
        if (!*in) {
            res.status = 500;
            return;
        }
        auto buffer = std::make_shared<std::vector<char>>(1 << 20);
        // httplib answers HEAD and Range requests from this provider: it asks for the ranges it needs.
        res.set_content_provider(size, mime, [in, buffer](size_t offset, size_t length, httplib::DataSink& sink) {
            in->clear();
            in->seekg(static_cast<std::streamoff>(offset));
            while (length > 0) {
                in->read(buffer->data(), static_cast<std::streamsize>(std::min(length, buffer->size())));
                const auto n = static_cast<size_t>(in->gcount());
                if (n == 0 || !sink.write(buffer->data(), n))
                    return false;
                offset += n;
                length -= n;
            }
            return true;
        });
    });
    port_ = server_->bind_to_any_port(bind);
    if (port_ <= 0)
        throw ConfigError(fmt::format("http delivery: cannot listen on {} (http_delivery.bind)", bind));
    url_ = fmt::format("http://{}:{}{}", host_for_url(advertise), port_, path);
    thread_ = std::thread([this] {
        server_->listen_after_bind();
        listen_returned_ = true;
    });
    // httplib's stop() does nothing until the listening loop has started, after which nothing else would end it:
    // the server is ready before the constructor returns, so that the destructor's stop() always takes. (It is a
    // matter of microseconds: the thread has only to start.)
    while (!server_->is_running() && !listen_returned_)
        std::this_thread::yield();
}

MediaServer::~MediaServer()
{
    server_->stop();
    if (thread_.joinable())
        thread_.join();
}

} // namespace jarvis
