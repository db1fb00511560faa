#include "http/chat_client.hpp"

#include "http/chat_answer_reading.hpp"
#include "http/curl_handles.hpp"
#include "http/sse_parser.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <thread>

namespace jarvis {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int max_attempts = 3;
constexpr auto poll_interval = std::chrono::milliseconds(50);

std::string chat_url(const EndpointConfig& endpoint)
{
    std::string base = endpoint.base_url;
    while (!base.empty() && base.back() == '/')
        base.pop_back();
    return base + "/chat/completions";
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// A chat completion is text, a stream's event one piece of it: a server that sends far more (a camera's endless
// video, a file server mistaken for vLLM) is not answering, and would otherwise fill memory until the timeout. 16 MB
// of text is millions of tokens, far past any model's context; a whole answer's JSON escapes it up to a few times.
constexpr size_t max_answer_bytes = size_t{64} << 20;
constexpr size_t max_answer_text_bytes = size_t{16} << 20;
constexpr size_t max_event_bytes = size_t{16} << 20;

// One HTTP exchange: its bytes, and for streams the answer as it is parsed.
class Exchange
{
public:
    Exchange(const plugin::Call& call, std::string url, bool stream, Clock::time_point start)
        : call_(call), url_(std::move(url)), stream_(stream), start_(start), sse_([this](std::string_view data) { on_event(data); })
    {
    }

    static size_t write(char* data, size_t size, size_t count, void* self_ptr)
    {
        auto* self = static_cast<Exchange*>(self_ptr);
        const std::string_view bytes(data, size * count);
        self->received_any = true;
        if (self->status == 0)
            curl_easy_getinfo(self->easy, CURLINFO_RESPONSE_CODE, &self->status);
        try {
            if (self->stream_ && self->status == 200) {
                self->sse_.feed(bytes);
                if (self->sse_.unfinished_bytes() > max_event_bytes)
                    self->refuse_endless(max_event_bytes, "without ending an event");
                if (self->answer.text.size() > max_answer_text_bytes)
                    self->refuse_endless(max_answer_text_bytes, "of answer text");
            } else {
                if (self->raw.size() + bytes.size() > max_answer_bytes)
                    self->refuse_endless(max_answer_bytes, "of answer");
                self->raw.append(bytes);
            }
        } catch (...) {
            if (caught_foreign_exception())
                throw;
            self->failure = std::current_exception();
            return 0; // aborts the transfer; the failure is rethrown after it
        }
        return bytes.size();
    }

    CURL* easy = nullptr;
    long status = 0;
    bool received_any = false;
    bool done = false;
    std::string raw;
    std::exception_ptr failure;
    ChatAnswer answer;

private:
    [[noreturn]] void refuse_endless(size_t limit, const char* what) const
    {
        throw plugin::Error(JV_E_REFUSED,
                            fmt::format("the server at {} sent more than {} MB {} (HTTP {}): that is not an answer; is "
                                        "endpoint.base_url a vLLM server?",
                                        url_, limit >> 20, what, status),
                            static_cast<int>(status));
    }

    void on_event(std::string_view data)
    {
        StreamEvent event = read_stream_event(data);
        done = done || event.done;
        if (event.error_status)
            throw plugin::Error(JV_E_REFUSED, "the server failed mid-answer: " + event.error_message, *event.error_status);
        if (event.usage.is_object())
            answer.usage = std::move(event.usage);
        if (event.finish_reason)
            answer.finish_reason = std::move(*event.finish_reason);
        if (!event.content.empty())
            emit(event.content);
    }

    void emit(const std::string& piece)
    {
        const std::string whole = utf8_.take(piece);
        if (whole.empty())
            return;
        if (answer.first_token_s < 0)
            answer.first_token_s = seconds_since(start_);
        answer.text += whole;
        call_.text(whole);
    }

    const plugin::Call& call_;
    std::string url_;
    bool stream_;
    Clock::time_point start_;
    SseParser sse_;
    Utf8Joiner utf8_;
};

// What an attempt sends: a body whole in memory, or one still being written, read from its start with a cursor.
struct Payload
{
    const std::string* whole = nullptr;
    StreamedBody* streamed = nullptr;
};

struct BodyReader
{
    StreamedBody& body;
    StreamedBody::Cursor cursor;
    bool paused = false;

    static size_t read(char* out, size_t size, size_t count, void* self_ptr)
    {
        auto* self = static_cast<BodyReader*>(self_ptr);
        const auto [copied, state] = self->body.read(self->cursor, out, size * count);
        switch (state) {
        case StreamedBody::State::data: return copied;
        case StreamedBody::State::waiting: self->paused = true; return CURL_READFUNC_PAUSE;
        case StreamedBody::State::end: return 0;
        case StreamedBody::State::failed: return CURL_READFUNC_ABORT;
        }
        return CURL_READFUNC_ABORT;
    }
};

// While it lives, the body's growth wakes the multi handle's poll.
class WakeOnChange
{
public:
    WakeOnChange(StreamedBody* body, CURLM* multi) : body_(body)
    {
        if (body_)
            body_->on_change([multi] { curl_multi_wakeup(multi); });
    }
    ~WakeOnChange()
    {
        if (body_)
            body_->on_change({});
    }
    WakeOnChange(const WakeOnChange&) = delete;
    WakeOnChange& operator=(const WakeOnChange&) = delete;

private:
    StreamedBody* body_;
};

bool retryable(CURLcode rc)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_GOT_NOTHING || rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR;
}

// Sleeps for `delay`, waking every poll interval to honour cancellation.
void cancellable_sleep(std::chrono::milliseconds delay, const plugin::Call& call)
{
    const auto until = Clock::now() + delay;
    while (Clock::now() < until) {
        call.throw_if_cancelled();
        std::this_thread::sleep_for(std::min<Clock::duration>(poll_interval, until - Clock::now()));
    }
}

ChatAnswer parse_whole_answer(const std::string& url, long status, const std::string& raw)
{
    std::optional<ChatAnswer> answer = read_whole_answer(raw);
    if (!answer)
        throw plugin::Error(JV_E_REFUSED, fmt::format("the server at {} answered HTTP {} without a chat completion: {}",
                                                      url, status, server_error_message(raw)),
                            static_cast<int>(status));
    return std::move(*answer);
}

// One request, tried again on connection failures and 503 while nothing was answered.
ChatAnswer send_payload(const EndpointConfig& endpoint, Payload payload, bool stream, const plugin::Call& call,
                        const std::function<void()>& between_polls)
{
    curl::ensure_global_init();
    const std::string url = chat_url(endpoint);

    curl_slist* raw_headers = curl_slist_append(nullptr, "Content-Type: application/json");
    raw_headers = curl_slist_append(raw_headers, stream ? "Accept: text/event-stream" : "Accept: application/json");
    // The body goes at once: libcurl would otherwise ask first (Expect: 100-continue) for a body over 1 MB and wait up
    // to a second for a server that does not answer that.
    raw_headers = curl_slist_append(raw_headers, "Expect:");
    if (payload.streamed) // its length is not known when it starts
        raw_headers = curl_slist_append(raw_headers, "Transfer-Encoding: chunked");
    if (!endpoint.api_key_env.empty())
        if (const char* key = std::getenv(endpoint.api_key_env.c_str()); key != nullptr && *key != '\0')
            raw_headers = curl_slist_append(raw_headers, (std::string("Authorization: Bearer ") + key).c_str());
    const curl::Slist headers(raw_headers);

    const auto start = Clock::now();
    for (int attempt = 1;; ++attempt) {
        call.throw_if_cancelled();
        curl::Easy easy(curl_easy_init());
        curl::Multi multi(curl_multi_init());
        if (!easy || !multi)
            throw plugin::Error(JV_E_INTERNAL, "cannot create a libcurl handle");
        Exchange exchange(call, url, stream, start);
        exchange.easy = easy.get();
        char error_buffer[CURL_ERROR_SIZE] = {};
        CURL* h = easy.get();
        curl_easy_setopt(h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
        std::optional<BodyReader> reader;
        if (payload.streamed) {
            reader.emplace(BodyReader{*payload.streamed, {}, false});
            curl_easy_setopt(h, CURLOPT_POST, 1L);
            curl_easy_setopt(h, CURLOPT_READFUNCTION, &BodyReader::read);
            curl_easy_setopt(h, CURLOPT_READDATA, &*reader);
        } else {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload.whole->data());
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.whole->size()));
            curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(endpoint.timeout_s * 1000));
        }
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Exchange::write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &exchange);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(endpoint.connect_timeout_s * 1000));
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);

        CURLcode rc = CURLE_OK;
        {
            const curl::Attached attached(multi.get(), h);
            const WakeOnChange wake(payload.streamed, multi.get());
            int running = 1;
            while (running > 0) {
                if (curl_multi_perform(multi.get(), &running) != CURLM_OK)
                    throw plugin::Error(JV_E_INTERNAL, "curl_multi_perform failed");
                if (running == 0)
                    break;
                if (between_polls)
                    between_polls();
                // Leaving here detaches and frees the handle, which closes the connection: vLLM stops generating.
                call.throw_if_cancelled();
                if (payload.streamed)
                    if (const auto whole = payload.streamed->finished_at();
                        whole && Clock::now() - *whole > std::chrono::duration<double>(endpoint.timeout_s)) {
                        rc = CURLE_OPERATION_TIMEDOUT;
                        break;
                    }
                curl_multi_poll(multi.get(), nullptr, 0, static_cast<int>(poll_interval.count()), nullptr);
                if (reader && reader->paused && payload.streamed->readable(reader->cursor)) {
                    reader->paused = false;
                    curl_easy_pause(h, CURLPAUSE_CONT);
                }
            }
            int left = 0;
            while (CURLMsg* message = curl_multi_info_read(multi.get(), &left))
                if (message->msg == CURLMSG_DONE)
                    rc = message->data.result;
        }
        if (exchange.failure)
            std::rethrow_exception(exchange.failure);
        if (payload.streamed)
            if (const auto failure = payload.streamed->failure())
                std::rethrow_exception(failure);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &exchange.status);
        const std::string reason = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);

        const bool answered_nothing = exchange.answer.text.empty();
        const bool again = attempt < max_attempts && answered_nothing &&
                           ((rc != CURLE_OK && retryable(rc) && !exchange.received_any) || (rc == CURLE_OK && exchange.status == 503));
        if (again) {
            cancellable_sleep(std::chrono::milliseconds(250 << (attempt - 1)), call);
            continue;
        }

        if (rc == CURLE_OPERATION_TIMEDOUT)
            throw plugin::Error(JV_E_TIMEOUT, fmt::format("{} timed out after {:.1f} s: {}", url, seconds_since(start), reason));
        if (rc != CURLE_OK) {
            if (exchange.received_any && stream && exchange.status == 200)
                throw plugin::Error(JV_E_UNREACHABLE, fmt::format("the connection to {} was lost mid-answer: {}", url, reason));
            throw plugin::Error(JV_E_UNREACHABLE, fmt::format("cannot reach {}: {}", url, reason));
        }
        if (exchange.status >= 400)
            throw plugin::Error(JV_E_REFUSED,
                                fmt::format("the server refused the request (HTTP {}): {}", exchange.status, server_error_message(exchange.raw)),
                                static_cast<int>(exchange.status));

        ChatAnswer answer;
        if (stream && exchange.status == 200) {
            if (!exchange.done)
                throw plugin::Error(JV_E_UNREACHABLE, fmt::format("the connection to {} was lost mid-answer: the stream ended without [DONE]", url));
            answer = std::move(exchange.answer);
        } else {
            answer = parse_whole_answer(url, exchange.status, exchange.raw);
            if (!answer.text.empty())
                answer.first_token_s = seconds_since(start);
        }
        answer.attempts = attempt;
        answer.total_s = seconds_since(start);
        return answer;
    }
}

} // namespace

ChatAnswer send_chat(const EndpointConfig& endpoint, const json& body, const plugin::Call& call)
{
    return send_chat(endpoint, body.dump(), body.value("stream", false), call);
}

ChatAnswer send_chat(const EndpointConfig& endpoint, const std::string& body, bool stream, const plugin::Call& call)
{
    return send_payload(endpoint, {&body, nullptr}, stream, call, {});
}

ChatAnswer send_chat(const EndpointConfig& endpoint, StreamedBody& body, bool stream, const plugin::Call& call,
                     const std::function<void()>& between_polls)
{
    return send_payload(endpoint, {nullptr, &body}, stream, call, between_polls);
}

} // namespace jarvis
