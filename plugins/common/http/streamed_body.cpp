#include "http/streamed_body.hpp"

#include <algorithm>
#include <cstring>

namespace jarvis {

void StreamedBody::append(std::string chunk)
{
    if (chunk.empty())
        return;
    // Chunks are held until the request ends (a retry sends them again): the room a string kept from being built
    // (doubling as it grew, up to twice its size) would be held with them.
    if (chunk.capacity() - chunk.size() > chunk.size() / 8)
        chunk.shrink_to_fit();
    std::lock_guard lock(mutex_);
    chunks_.push_back(std::move(chunk));
    if (wake_)
        wake_();
}

void StreamedBody::finish()
{
    std::lock_guard lock(mutex_);
    finished_at_ = Clock::now();
    if (wake_)
        wake_();
}

void StreamedBody::fail(std::exception_ptr failure)
{
    std::lock_guard lock(mutex_);
    failure_ = std::move(failure);
    if (wake_)
        wake_();
}

std::pair<size_t, StreamedBody::State> StreamedBody::read(Cursor& cursor, char* out, size_t size)
{
    std::lock_guard lock(mutex_);
    if (failure_)
        return {0, State::failed};
    size_t copied = 0;
    while (copied < size && cursor.chunk < chunks_.size()) {
        const std::string& chunk = chunks_[cursor.chunk];
        const size_t n = std::min(size - copied, chunk.size() - cursor.offset);
        std::memcpy(out + copied, chunk.data() + cursor.offset, n);
        copied += n;
        cursor.offset += n;
        if (cursor.offset == chunk.size()) {
            ++cursor.chunk;
            cursor.offset = 0;
        }
    }
    if (copied > 0)
        return {copied, State::data};
    return {0, finished_at_ ? State::end : State::waiting};
}

bool StreamedBody::readable(const Cursor& cursor) const
{
    std::lock_guard lock(mutex_);
    return failure_ || finished_at_ || cursor.chunk < chunks_.size();
}

std::exception_ptr StreamedBody::failure() const
{
    std::lock_guard lock(mutex_);
    return failure_;
}

std::optional<StreamedBody::Clock::time_point> StreamedBody::finished_at() const
{
    std::lock_guard lock(mutex_);
    return failure_ ? std::nullopt : finished_at_;
}

void StreamedBody::on_change(std::function<void()> wake)
{
    std::lock_guard lock(mutex_);
    wake_ = std::move(wake);
}

} // namespace jarvis
