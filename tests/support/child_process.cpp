#include "child_process.hpp"

#include "fixtures.hpp"
#include "process.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>


namespace jarvis::test {
namespace fs = std::filesystem;

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env)
{
    std::string pattern = (fs::temp_directory_path() / "jarvis-child-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
        throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, (dir_ / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, (dir_ / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_storage;
    std::vector<char*> env = environment_with(extra_env, env_storage);
    const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
}

ChildProcess::~ChildProcess()
{
    if (!exit_code_) {
        kill(pid_, SIGKILL);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

void ChildProcess::signal(int number) const
{
    if (!exit_code_)
        kill(pid_, number);
}

std::optional<int> ChildProcess::wait_for(std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exit_code_) {
        int status = 0;
        const pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : killed_by_signal + WTERMSIG(status);
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return exit_code_;
}

std::string ChildProcess::out() const { return read_file(dir_ / "out"); }
std::string ChildProcess::err() const { return read_file(dir_ / "err"); }

namespace {

std::vector<std::string> emulator_argv(std::vector<std::string> args)
{
    args.insert(args.begin(), {JARVIS_TEST_EMULATOR_BINARY, "--port", "0", "--host", "127.0.0.1"});
    return args;
}

size_t append(char* data, size_t size, size_t count, void* target)
{
    static_cast<std::string*>(target)->append(data, size * count);
    return size * count;
}

HttpResult exchange(const std::string& url, const std::string* post_body)
{
    CURL* h = curl_easy_init();
    HttpResult r;
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    if (post_body != nullptr) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, post_body->data());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(post_body->size()));
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &append);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
    const CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK)
        throw std::runtime_error("request to " + url + " failed: " + curl_easy_strerror(rc));
    return r;
}

} // namespace

Emulator::Emulator(std::vector<std::string> args) : Emulator(emulator_argv(std::move(args)), true) {}

Emulator::Emulator(std::vector<std::string> args, const Volume& volume) : Emulator(
    [&] {
        std::string script = "mount -t tmpfs none /mnt && mkdir -p '" + volume.container_dir + "' && mount --bind '" +
                             volume.host_dir.string() + "' '" + volume.container_dir + "' && exec";
        for (const auto& a : emulator_argv(std::move(args)))
            script += " '" + a + "'";
        return std::vector<std::string>{"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script};
    }(),
    true)
{
}

Emulator::Emulator(std::vector<std::string> argv, bool) : process_(argv) { wait_until_listening(); }

void Emulator::wait_until_listening()
{
    const std::string marker = "listening on ";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (true) {
        const std::string out = process_.out();
        if (const size_t at = out.find(marker); at != std::string::npos && out.find('\n', at) != std::string::npos) {
            root_url_ = out.substr(at + marker.size(), out.find('\n', at) - at - marker.size());
            base_url_ = root_url_ + "/v1";
            return;
        }
        if (process_.wait_for(std::chrono::milliseconds(0)))
            throw std::runtime_error("vlm-emulator exited: " + process_.err());
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("vlm-emulator did not start within 20 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

HttpResult http_post_json(const std::string& url, const std::string& body) { return exchange(url, &body); }
HttpResult http_get(const std::string& url) { return exchange(url, nullptr); }

std::string sha256_hex_of_file(const fs::path& path)
{
    const std::string bytes = read_file(path);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
    std::string hex;
    char two[3];
    for (unsigned i = 0; i < length; ++i) {
        std::snprintf(two, sizeof two, "%02x", digest[i]);
        hex += two;
    }
    return hex;
}

bool Emulator::wait_for_log(const std::string& text, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (process_.err().find(text) == std::string::npos) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

} // namespace jarvis::test
