#include "http/media_server.hpp"

#include "config/config_error.hpp"
#include "platform/native_path.hpp"

#include <httplib.h>

#include <fmt/format.h>

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

    server_->Get(path, [this, file, size, mime](const httplib::Request&, httplib::Response& res) {
        ++served_;
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
