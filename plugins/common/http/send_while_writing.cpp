#include "http/send_while_writing.hpp"

#include "core/call_relay.hpp"

#include <jarvis/forced_unwind.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace jarvis {
namespace {

// Whatever leaves the sending (an answer, a refusal, cancellation, a thread being ended), the writer stops and its
// thread is joined before the body it writes to is gone.
struct JoinWriter
{
    CallRelay& relay;
    std::thread& writer;
    ~JoinWriter()
    {
        relay.stop();
        if (writer.joinable())
            writer.join();
    }
};

// On the calling thread, until `write` has returned or thrown: its progress goes to the host, the host's cancellation
// to it. A cancellation or a failure of writing is what the caller then gets.
void wait_for_writing(StreamedBody& body, CallRelay& relay, const plugin::Call& call)
{
    std::mutex mutex;
    std::condition_variable changed;
    body.on_change([&] { changed.notify_all(); });
    struct Unhook
    {
        StreamedBody& body;
        ~Unhook() { body.on_change({}); }
    } unhook{body};
    std::unique_lock lock(mutex);
    while (!body.finished_at() && !body.failure()) {
        relay.forward(call);
        // Woken by the body's growth; the timeout only paces relaying the host's cancellation.
        changed.wait_for(lock, std::chrono::milliseconds(50));
    }
    relay.forward(call);
    call.throw_if_cancelled();
    if (const auto failure = body.failure())
        std::rethrow_exception(failure);
}

} // namespace

WrittenAnswer send_while_writing(const EndpointConfig& endpoint, bool stream, const plugin::Call& call,
                                 const std::function<void(StreamedBody& body, const plugin::Call& writer_call)>& write)
{
    StreamedBody body;
    CallRelay relay;
    std::thread writer;
    const JoinWriter join{relay, writer};
    writer = std::thread([&] {
        try {
            write(body, relay.worker_call());
            body.finish();
        } catch (...) {
            if (caught_foreign_exception())
                throw;
            body.fail(std::current_exception());
        }
    });

    const auto start = std::chrono::steady_clock::now();
    bool told_waiting = false;
    WrittenAnswer out;
    try {
        out.answer = send_chat(endpoint, body, stream, call, [&] {
            relay.forward(call);
            if (!told_waiting && body.finished_at()) {
                call.progress("waiting for the answer", -1);
                told_waiting = true;
            }
        });
    } catch (const plugin::Error& e) {
        // 411: a server that takes no chunked body, which the caller sends again whole. Writing is finished first (its
        // frames then in the client's cache), so that they are not decoded a second time.
        if (e.http_status() != 411)
            throw;
        wait_for_writing(body, relay, call);
        throw;
    }
    const auto whole = body.finished_at();
    if (!whole)
        throw plugin::Error(JV_E_REFUSED, "the server answered before the request's body was all sent");
    // The answer's times count from when send_chat began (a moment after `start`, or a later attempt): the body was
    // whole before the answer ended, whichever clock says otherwise.
    out.body_whole_s = std::min(std::chrono::duration<double>(*whole - start).count(), out.answer.total_s);
    return out;
}

} // namespace jarvis
