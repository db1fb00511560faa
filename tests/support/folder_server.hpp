#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace jarvis::test {

// A web server on a free loopback port that serves the files of one folder as they are (Range requests included), as
// a site serving an HLS playlist and its segments does. Counts the requests it answered.
class FolderServer
{
public:
    explicit FolderServer(const std::filesystem::path& folder);
    ~FolderServer();
    FolderServer(const FolderServer&) = delete;
    FolderServer& operator=(const FolderServer&) = delete;

    std::string url(const std::string& name) const; // http://127.0.0.1:<port>/<name>
    size_t requests() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace jarvis::test
