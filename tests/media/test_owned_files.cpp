// Temporary files named after their writer: a later process removes those of a writer that is gone (killed, so no
// destructor ran), and leaves alone what a live process, another machine or something else may still use.
#include "platform/owned_files.hpp"
#include "platform/process_identity.hpp"

#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using jarvis::test::TempDir;

constexpr const char* prefix = "jarvis-download-";

// A process id that certainly ran on this machine and is gone now.
int64_t pid_of_an_ended_process()
{
    const pid_t child = ::fork();
    if (child == 0)
        ::_exit(0);
    REQUIRE(child > 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE_FALSE(jarvis::process_is_running(child));
    return child;
}

// A file `name` in `dir`, last written `ago` before now.
fs::path file_written(const fs::path& dir, const std::string& name, fs::file_time_type::duration ago)
{
    const fs::path path = dir / name;
    std::ofstream(path) << "part of a video";
    fs::last_write_time(path, fs::file_time_type::clock::now() - ago);
    return path;
}

// This machine's mark as the names carry it ("-m<8 hex>-").
std::string this_machine_mark(const fs::path& dir)
{
    const std::string name = jarvis::owned_file_path(dir, prefix, ".mp4").filename().string();
    const size_t at = name.find("-m");
    REQUIRE(at != std::string::npos);
    return name.substr(at + 2, 8);
}

// A name as owned_file_path makes it, for `pid` on the machine of `mark`; each call's differs.
std::string owned_name(int64_t pid, const std::string& mark)
{
    static int made = 0;
    return std::string(prefix) + "p" + std::to_string(pid) + "-m" + mark + "-123-" + std::to_string(made++) + ".mp4";
}

} // namespace

TEST_CASE("the process of this machine is told running or gone", "[media][owned_files]")
{
    CHECK(jarvis::process_is_running(jarvis::current_process_id()));
    CHECK(jarvis::process_is_running(::getppid()));
    CHECK_FALSE(jarvis::process_is_running(pid_of_an_ended_process()));
    CHECK_FALSE(jarvis::process_is_running(0));
    CHECK_FALSE(jarvis::process_is_running(-1));
    CHECK_FALSE(jarvis::process_is_running(int64_t(1) << 40));
}

TEST_CASE("a new name carries this process and machine, and differs each time", "[media][owned_files]")
{
    TempDir dir;
    const fs::path a = jarvis::owned_file_path(dir.path(), prefix, ".mkv");
    const fs::path b = jarvis::owned_file_path(dir.path(), prefix, ".mkv");
    CHECK(a != b);
    CHECK(a.parent_path() == dir.path());
    const std::string name = a.filename().string();
    CHECK(name.rfind(std::string(prefix) + "p" + std::to_string(jarvis::current_process_id()) + "-m", 0) == 0);
    CHECK(name.size() > 4);
    CHECK(name.substr(name.size() - 4) == ".mkv");
    CHECK_FALSE(fs::exists(a)); // nothing is created
}

TEST_CASE("only files of a gone writer, or unwritten for a day and not this process's, are removed", "[media][owned_files]")
{
    TempDir dir;
    const std::string mark = this_machine_mark(dir.path());
    const std::string other_mark = mark == "00000000" ? "11111111" : "00000000";
    const int64_t gone = pid_of_an_ended_process();

    const fs::path killed = file_written(dir.path(), owned_name(gone, mark), 2min);
    const fs::path killed_long_ago = file_written(dir.path(), owned_name(gone, mark), 30h);
    // Within the grace a writer of the same machine name in another process-id namespace may still write it.
    const fs::path killed_just_now = file_written(dir.path(), owned_name(gone, mark), 0s);
    const fs::path mine = file_written(dir.path(), owned_name(jarvis::current_process_id(), mark), 2min);
    // A hard link staged by this process has the time of the week-old video it names: still in use.
    const fs::path mine_old = file_written(dir.path(), owned_name(jarvis::current_process_id(), mark), 24h * 7);
    const fs::path parents = file_written(dir.path(), owned_name(::getppid(), mark), 2min);
    // Another machine's process ids say nothing here: only a day unwritten counts.
    const fs::path other_machine = file_written(dir.path(), owned_name(gone, other_mark), 2min);
    const fs::path other_machine_old = file_written(dir.path(), owned_name(gone, other_mark), 25h);
    // Names from before the owner was marked.
    const fs::path unmarked = file_written(dir.path(), std::string(prefix) + "3141592653-0.mp4", 2min);
    const fs::path unmarked_old = file_written(dir.path(), std::string(prefix) + "3141592653-1.mp4", 25h);
    const fs::path not_ours = file_written(dir.path(), "jarvis-probe-p" + std::to_string(gone) + "-m" + mark + "-1-0.mp4", 30h);
    const fs::path folder = dir.path() / owned_name(gone, mark).append(".d");
    fs::create_directory(folder);
    fs::last_write_time(folder, fs::file_time_type::clock::now() - 30h);

    CHECK(jarvis::remove_abandoned_files(dir.path(), prefix) == 4);
    CHECK_FALSE(fs::exists(killed));
    CHECK_FALSE(fs::exists(killed_long_ago));
    CHECK_FALSE(fs::exists(other_machine_old));
    CHECK_FALSE(fs::exists(unmarked_old));
    for (const fs::path& kept : {killed_just_now, mine, mine_old, parents, other_machine, unmarked, not_ours, folder}) {
        INFO(kept);
        CHECK(fs::exists(kept));
    }
    CHECK(jarvis::remove_abandoned_files(dir.path() / "no such folder", prefix) == 0);
}

TEST_CASE("a running writer's hard link to a week-old video is kept, unlike its week-old copy or a gone writer's link",
          "[media][owned_files]")
{
    TempDir dir;
    const std::string mark = this_machine_mark(dir.path());
    const std::string other_mark = mark == "00000000" ? "11111111" : "00000000";
    const fs::path video = file_written(dir.path(), "recording.mp4", 24h * 7);
    const auto linked = [&](const std::string& name) {
        fs::create_hard_link(video, dir.path() / name);
        REQUIRE(fs::hard_link_count(video) > 1);
        return dir.path() / name;
    };
    // Another Jarvis process staging the video while its request is under way.
    const fs::path running_link = linked(owned_name(::getppid(), mark));
    const fs::path gone_link = linked(owned_name(pid_of_an_ended_process(), mark));
    // Another machine's ids say nothing here, so its age is all there is.
    const fs::path other_machine_link = linked(owned_name(::getppid(), other_mark));
    // A file of one name only is dated when written: a week unwritten means the id now belongs to someone else.
    const fs::path running_old_copy = file_written(dir.path(), owned_name(::getppid(), mark), 24h * 7);

    CHECK(jarvis::remove_abandoned_files(dir.path(), prefix) == 3);
    CHECK(fs::exists(running_link));
    CHECK_FALSE(fs::exists(gone_link));
    CHECK_FALSE(fs::exists(other_machine_link));
    CHECK_FALSE(fs::exists(running_old_copy));
    CHECK(fs::exists(video));
}
