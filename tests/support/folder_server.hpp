#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace jarvis::test {

// A web server on a free loopback port that serves the files of one folder as they are (Range requests included), as
// a site serving an HLS playlist and its segments does. A request for one of `silent` (names not in the folder) gets
// no answer at all until the server is destroyed, as from a server that stalls. A request for a name of `redirects`
// is sent on (302 Found) to the name it maps to, as a site's short link is.
class FolderServer
{
public:
    explicit FolderServer(const std::filesystem::path& folder, const std::vector<std::string>& silent = {},
                          const std::map<std::string, std::string>& redirects = {});
    ~FolderServer();
    FolderServer(const FolderServer&) = delete;
    FolderServer& operator=(const FolderServer&) = delete;

    std::string url(const std::string& name) const; // http://127.0.0.1:<port>/<name>
    // Whether `name` has been asked for, waiting up to `within` for it.
    bool requested(const std::string& name, std::chrono::seconds within) const;
    // How many requests for `name` arrived so far.
    size_t requests(const std::string& name) const;
    // The bytes of `name`'s bodies sent, over all its requests (what a client read of it), once every request asked
    // so far (but the silent ones) is answered.
    size_t bytes_sent(const std::string& name) const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace jarvis::test
