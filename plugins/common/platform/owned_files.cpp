#include "platform/owned_files.hpp"

#include "platform/file_access.hpp"
#include "platform/native_path.hpp"
#include "platform/process_identity.hpp"

#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <string>

namespace jarvis {
namespace {

namespace fs = std::filesystem;

// FNV-1a: a machine name's mark in eight hex digits, whatever characters the name has.
std::string machine_mark()
{
    uint32_t hash = 2166136261u;
    for (const unsigned char c : machine_name()) {
        hash ^= c;
        hash *= 16777619u;
    }
    char text[9] = {};
    std::snprintf(text, sizeof(text), "%08x", static_cast<unsigned>(hash));
    return text;
}

const std::string& this_machine_mark()
{
    static const std::string mark = machine_mark();
    return mark;
}

struct Owner
{
    int64_t pid = 0;
    std::string machine;
};

// The owner a name after `prefix` gives ("p<pid>-m<mark>-..."), or nothing for a name of another form.
std::optional<Owner> owner_of(std::string_view rest)
{
    if (rest.empty() || rest[0] != 'p')
        return std::nullopt;
    Owner owner;
    const char* first = rest.data() + 1;
    const char* last = rest.data() + rest.size();
    const auto [end, ec] = std::from_chars(first, last, owner.pid);
    if (ec != std::errc() || end == first)
        return std::nullopt;
    const std::string_view after(end, static_cast<size_t>(last - end));
    if (after.size() < 11 || after.substr(0, 2) != "-m" || after[10] != '-')
        return std::nullopt;
    owner.machine = std::string(after.substr(2, 8));
    return owner;
}

} // namespace

fs::path owned_file_path(const fs::path& dir, std::string_view prefix, std::string_view suffix)
{
    static std::atomic<unsigned> counter{0};
    const std::string name = std::string(prefix) + "p" + std::to_string(current_process_id()) + "-m" + this_machine_mark() + "-" +
                             std::to_string(std::random_device{}()) + "-" + std::to_string(counter++) + std::string(suffix);
    return dir / native_path(name);
}

size_t remove_abandoned_files(const fs::path& dir, std::string_view prefix, const AbandonRules& rules)
{
    size_t removed = 0;
    std::error_code ec;
    const auto now = fs::file_time_type::clock::now();
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = utf8_path(it->path().filename());
        if (name.compare(0, prefix.size(), prefix) != 0)
            continue;
        std::error_code file_ec;
        if (!it->is_regular_file(file_ec))
            continue;
        const auto written = fs::last_write_time(it->path(), file_ec);
        if (file_ec)
            continue;
        const auto unwritten = now - written;
        const std::optional<Owner> owner = owner_of(std::string_view(name).substr(prefix.size()));
        const bool this_machine = owner && owner->machine == this_machine_mark();
        // This process's own files are in use, however old their time: a hard link has the time of the video it names,
        // a Windows copy keeps its original's, and a copy kept for follow-up questions may outlive a day.
        if (this_machine && owner->pid == current_process_id())
            continue;
        const bool writer_running = this_machine && process_is_running(owner->pid);
        // A link's time is its video's, so its age says nothing of when it was staged: a running writer's link is
        // kept. Were the id reused by another program, the leftover is a video's second name, which takes room only once
        // the video itself is deleted.
        if (writer_running && name_count(it->path()).value_or(1) > 1)
            continue;
        const bool writer_gone = this_machine && !writer_running && unwritten > rules.dead_writer_grace;
        if ((writer_gone || unwritten > rules.unwritten_limit) && fs::remove(it->path(), file_ec))
            ++removed;
    }
    return removed;
}

} // namespace jarvis
