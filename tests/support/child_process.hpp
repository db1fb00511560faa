#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace jarvis::test {

// A process running in the background, its stdout and stderr going to files, killed if still running when the
// object goes.
class ChildProcess
{
public:
    explicit ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {});
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    void signal(int number) const;
    // The exit code (killed_by_signal + signal when killed by one, so that a process killed by SIGINT before its
    // handler was installed is not taken for one that exited 130), or nothing if it did not end within `timeout`.
    std::optional<int> wait_for(std::chrono::milliseconds timeout);
    std::string out() const;
    std::string err() const;

private:
    int pid_ = -1;
    std::optional<int> exit_code_;
    std::filesystem::path dir_;
};

// bin/vlm-emulator on a free loopback port, started with `args`, ready when constructed.
class Emulator
{
public:
    explicit Emulator(std::vector<std::string> args = {});

    // The way Docker shows a volume to vLLM: the emulator runs in a mount namespace of its own where `host_dir`
    // is bind-mounted at `container_dir` (under /mnt, a private tmpfs there), a path that does not exist outside.
    struct Volume
    {
        std::filesystem::path host_dir;
        std::string container_dir = "/mnt/input_data";
    };
    Emulator(std::vector<std::string> args, const Volume& volume);
    const std::string& base_url() const { return base_url_; } // http://127.0.0.1:PORT/v1
    const std::string& root_url() const { return root_url_; } // http://127.0.0.1:PORT
    ChildProcess& process() { return process_; }
    // Waits until the emulator's log has a line containing `text` (what it saw); false after `timeout`.
    bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(60));

private:
    Emulator(std::vector<std::string> argv, bool);
    void wait_until_listening();

    ChildProcess process_;
    std::string root_url_;
    std::string base_url_;
};

struct HttpResult
{
    long status = 0;
    std::string body;
};

// A plain HTTP exchange with libcurl (no retries, no interpretation), for checking servers directly.
HttpResult http_post_json(const std::string& url, const std::string& body);
HttpResult http_get(const std::string& url);

std::string sha256_hex_of_file(const std::filesystem::path& path);

} // namespace jarvis::test
