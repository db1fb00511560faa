// Delivery benchmark, run on demand: the time from ask to the request arriving at the server for each
// native_video delivery of one large video, each in a process of its own (peak memory per delivery), and the
// media server's throughput on loopback against nginx serving the same file.
//
//   delivery_bench --plugin-dir DIR --video FILE [--rounds N] [--work DIR] [--nginx]
//
// The server is a sink on loopback that notes when a request starts arriving and answers at once; it fetches
// nothing, so what is measured is our side: probing, mapping or staging, starting the media server, encoding the body.
#include "http/media_server.hpp"

#include <jarvis/vision_provider.hpp>

#include <boost/dll/shared_library.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Options
{
    fs::path plugin_dir;
    fs::path video;
    fs::path work = "build/bench/deliveries";
    int rounds = 3;
    bool nginx = false;
    std::string one; // internal: run one delivery and print its timing
};

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// One ask through the real plugin against a sink; prints "seconds-to-arrival body-bytes".
int run_one(const Options& o)
{
    httplib::Server sink;
    std::atomic<int64_t> arrived_ns{0};
    std::atomic<size_t> body_bytes{0};
    sink.set_payload_max_length(1ULL << 34);
    // The body is counted, not kept: the sink shares this process, whose peak memory is the plugin's to report.
    sink.Post("/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res, const httplib::ContentReader& read) {
        arrived_ns = Clock::now().time_since_epoch().count();
        read([&](const char*, size_t length) {
            body_bytes += length;
            return true;
        });
        res.set_content(R"({"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{}})",
                        "application/json");
    });
    const int port = sink.bind_to_any_port("127.0.0.1");
    std::thread serving([&] { sink.listen_after_bind(); });

    const fs::path volume = o.work / "volume";
    json config = {{"endpoint", {{"base_url", "http://127.0.0.1:" + std::to_string(port) + "/v1"}}},
                   {"data_delivery", {{"max_mb", 4096}}},
                   {"http_delivery", {{"advertise", "127.0.0.1"}}},
                   {"input_data", {{"host_path", volume.string()}, {"container_path", "/data"}}}};
    fs::path video = o.video;
    std::string delivery = o.one;
    if (o.one == "file-inside")
        video = volume / o.video.filename(), delivery = "file";
    else if (o.one == "file-staged")
        delivery = "file";
    auto library = std::make_shared<boost::dll::shared_library>(o.plugin_dir / "native_video.so",
                                                                boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    const auto plugin = jarvis::vision::Plugin::from_table(
        std::shared_ptr<const jv_plugin>(library, library->get<const jv_plugin*(uint32_t)>(JV_ENTRY_POINT_NAME)(JV_ABI_MAJOR)));
    jarvis::vision::Provider provider(plugin, config.dump());
    const std::string request =
        json{{"video", video.string()}, {"prompt", "x"}, {"loadout", "vllm://m#nativevideo#delivery=" + delivery}}.dump();
    const auto start = Clock::now();
    provider.ask(request);
    const double to_arrival = double(arrived_ns - start.time_since_epoch().count()) / 1e9;
    sink.stop();
    serving.join();
    std::printf("%.6f %zu\n", to_arrival, body_bytes.load());
    return 0;
}

struct Sample
{
    double seconds;
    double rss_mb;
    size_t body;
};

// Runs this program with --one in a child process: its timing and peak memory.
Sample measure(const Options& o, const char* self, const std::string& mode)
{
    std::string out_path = (o.work / ("out-" + mode)).string();
    const pid_t pid = fork();
    if (pid == 0) {
        std::freopen(out_path.c_str(), "w", stdout);
        execl(self, self, "--plugin-dir", o.plugin_dir.c_str(), "--video", o.video.c_str(), "--work", o.work.c_str(), "--one",
              mode.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    Sample s{0, double(usage.ru_maxrss) / 1024, 0};
    FILE* f = std::fopen(out_path.c_str(), "r");
    if (f == nullptr || std::fscanf(f, "%lf %zu", &s.seconds, &s.body) != 2 || status != 0) {
        std::cerr << "delivery " << mode << " failed (status " << status << ")" << std::endl;
        std::exit(1);
    }
    std::fclose(f);
    return s;
}

// Downloads a URL to nowhere with curl; returns GB/s.
double download_rate(const std::string& url, size_t bytes)
{
    const auto start = Clock::now();
    const std::string command = "curl -s -o /dev/null '" + url + "'";
    if (std::system(command.c_str()) != 0)
        return 0;
    return double(bytes) / seconds(Clock::now() - start) / 1e9;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (a == "--plugin-dir") o.plugin_dir = next();
        else if (a == "--video") o.video = fs::absolute(next());
        else if (a == "--work") o.work = fs::absolute(next());
        else if (a == "--rounds") o.rounds = std::stoi(next());
        else if (a == "--nginx") o.nginx = true;
        else if (a == "--one") o.one = next();
        else {
            std::cerr << "usage: delivery_bench --plugin-dir DIR --video FILE [--rounds N] [--work DIR] [--nginx]\n";
            return 2;
        }
    }
    o.work = fs::absolute(o.work);
    if (!o.one.empty())
        return run_one(o);

    fs::create_directories(o.work / "volume");
    const fs::path inside = o.work / "volume" / o.video.filename();
    if (!fs::exists(inside))
        fs::create_hard_link(o.video, inside); // the same bytes, inside the volume
    const size_t size = fs::file_size(o.video);
    std::cerr << "video: " << o.video << ", " << size / 1e6 << " MB\n";

    const std::vector<std::string> modes = {"file-inside", "file-staged", "http", "data"};
    std::map<std::string, std::vector<Sample>> samples;
    std::vector<double> ours_rate, nginx_rate;
    for (int round = 0; round < o.rounds; ++round) {
        for (const auto& mode : modes) {
            samples[mode].push_back(measure(o, argv[0], mode));
            std::cerr << "round " << round + 1 << ": " << mode << " " << samples[mode].back().seconds * 1000 << " ms, "
                      << samples[mode].back().rss_mb << " MB\n";
        }
        {
            jarvis::MediaServer server("127.0.0.1", "127.0.0.1", o.video, "video/mp4");
            ours_rate.push_back(download_rate(server.url(), size));
        }
        if (o.nginx) {
            const fs::path conf = o.work / "nginx.conf";
            const int port = 18000 + round;
            FILE* f = std::fopen(conf.c_str(), "w");
            std::fprintf(f,
                         "daemon off; pid %s/nginx.pid; error_log %s/nginx.err;\nevents {}\nhttp { access_log off; sendfile on; "
                         "server { listen 127.0.0.1:%d; root %s; } }\n",
                         o.work.c_str(), o.work.c_str(), port, o.video.parent_path().c_str());
            std::fclose(f);
            const pid_t nginx = fork();
            if (nginx == 0) {
                execl("/usr/sbin/nginx", "nginx", "-c", conf.c_str(), "-p", o.work.c_str(), static_cast<char*>(nullptr));
                _exit(127);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            nginx_rate.push_back(download_rate("http://127.0.0.1:" + std::to_string(port) + "/" + o.video.filename().string(), size));
            kill(nginx, SIGTERM);
            waitpid(nginx, nullptr, 0);
        }
    }

    std::printf("\nnative_video deliveries of a %.0f MB video, median of %d rounds (each delivery in its own process)\n\n", size / 1e6, o.rounds);
    std::printf("| delivery | ask to request at the server | request body | peak memory |\n|---|---|---|---|\n");
    for (const auto& mode : modes) {
        std::vector<double> t, rss;
        for (const auto& s : samples[mode])
            t.push_back(s.seconds), rss.push_back(s.rss_mb);
        std::printf("| %s | %.1f ms | %.1f MB | %.0f MB |\n", mode.c_str(), median(t) * 1000, samples[mode].back().body / 1e6,
                    *std::max_element(rss.begin(), rss.end()));
    }
    std::printf("\nmedia server on loopback: %.2f GB/s", median(ours_rate));
    if (!nginx_rate.empty())
        std::printf("; nginx (sendfile) serving the same file: %.2f GB/s (ratio %.2f)", median(nginx_rate),
                    median(ours_rate) / median(nginx_rate));
    std::printf("\n");
    return 0;
}
