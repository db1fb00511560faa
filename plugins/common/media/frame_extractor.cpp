#include "media/frame_extractor.hpp"

#include "media/interval_recovery.hpp"
#include "media/media_error.hpp"

#include <jarvis/forced_unwind.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace jarvis {
namespace {

// What the workers share: the intervals to take (in `order`), a stop flag, the count of frames encoded, and which
// intervals are finished (their frames are then the calling thread's to read).
struct WorkQueue
{
    WorkQueue(std::vector<Interval>& all, std::vector<size_t> taking_order)
        : intervals(all), order(std::move(taking_order)), finished(std::make_unique<std::atomic<bool>[]>(all.size()))
    {
    }
    std::vector<Interval>& intervals;
    std::vector<size_t> order;
    std::atomic<size_t> next{0};
    std::atomic<bool> stop{false};
    std::atomic<size_t> done{0};
    std::unique_ptr<std::atomic<bool>[]> finished;
};

// Hands the result's frames out in time order, interval by interval, as the intervals before them are finished. A
// frame that stands in for the next interval's first (the same picture) is handed out once.
class InOrderFrames
{
public:
    InOrderFrames(WorkQueue& work, Extraction& result, const std::function<void(const EncodedFrame&)>& sink, bool keep_jpegs)
        : work_(work), result_(result), sink_(sink), keep_jpegs_(keep_jpegs)
    {
    }

    // Moves the frames of every newly finished leading interval into the result, telling the sink of each.
    void advance()
    {
        while (next_ < work_.intervals.size() && work_.finished[next_].load(std::memory_order_acquire)) {
            for (auto& f : work_.intervals[next_].frames)
                if (result_.frames.empty() || result_.frames.back().pts != f.pts) {
                    result_.frames.push_back(std::move(f));
                    if (sink_) {
                        sink_(result_.frames.back());
                        if (!keep_jpegs_)
                            std::string().swap(result_.frames.back().jpeg);
                    }
                }
            ++next_;
        }
    }

private:
    WorkQueue& work_;
    Extraction& result_;
    const std::function<void(const EncodedFrame&)>& sink_;
    bool keep_jpegs_;
    size_t next_ = 0;
};

struct WorkerResult
{
    std::vector<std::string> warnings;
    size_t skipped_references = 0;
    size_t pictures_decoded = 0;
    size_t pictures_on_gpu = 0;
};

// One worker: its own demuxer and decoder (the loop), taking intervals until none is left or the work is stopped.
WorkerResult run_worker(const ExtractionRequest& request, const FrameIndex& index, WorkQueue& work, int decoder_threads)
{
    IntervalDecodeLoop loop(request, index, work.stop, work.done, decoder_threads);
    IntervalRecovery recovery(request, index, loop);
    while (!work.stop) {
        const size_t i = work.next++;
        if (i >= work.order.size())
            break;
        Interval& interval = work.intervals[work.order[i]];
        if (request.mode == SeekMode::keyframe)
            recovery.decode_keyframe(interval);
        else
            recovery.decode_interval(interval);
        work.finished[work.order[i]].store(!work.stop, std::memory_order_release);
    }
    return {recovery.warnings(), recovery.skipped_references(), recovery.pictures_decoded(), loop.pictures_on_gpu()};
}

// Sorted targets grouped by the keyframe interval they decode from (each its own interval in keyframe mode).
std::vector<Interval> group_by_interval(const FrameIndex& index, const std::vector<FrameTarget>& targets, SeekMode mode)
{
    std::vector<Interval> intervals;
    size_t current_key = SIZE_MAX;
    for (const auto& t : targets) {
        const size_t key = mode == SeekMode::keyframe ? t.position : index.frames[t.position].keyframe;
        if (intervals.empty() || key != current_key || mode == SeekMode::keyframe)
            intervals.emplace_back();
        intervals.back().targets.push_back(t);
        current_key = key;
    }
    return intervals;
}

// The order workers take intervals in. One worker goes in time order (a download is read forward), and so do several
// whose frames are consumed as they come; otherwise several take the longest decodes first, so that no worker is left
// with a long one while the others are done.
std::vector<size_t> work_order(const FrameIndex& index, const std::vector<Interval>& intervals, size_t workers, bool in_time_order)
{
    std::vector<size_t> order(intervals.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    if (workers > 1 && !in_time_order) {
        const auto frames_to_decode = [&](size_t i) {
            const size_t last = intervals[i].targets.back().position;
            return last - std::min<size_t>(last, static_cast<size_t>(index.frames[last].keyframe));
        };
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return frames_to_decode(a) > frames_to_decode(b); });
    }
    return order;
}

bool failure_seen(std::mutex& mutex, const std::exception_ptr& failure)
{
    std::lock_guard lock(mutex);
    return static_cast<bool>(failure);
}

} // namespace

Extraction extract_frames(const ExtractionRequest& request, const FrameIndex& index, const std::vector<FrameTarget>& targets,
                          const ExtractionObserver& observer)
{
    Extraction result;
    if (targets.empty())
        return result;
    std::vector<Interval> intervals = group_by_interval(index, targets, request.mode);
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    // A URL would be downloaded once per thread: one thread reads it.
    const unsigned wanted = is_http_url(request.read_from()) ? 1u : (request.threads ? request.threads : cores);
    const DecodeMemoryLedger::Reservation memory = DecodeMemoryLedger::process_wide().reserve(
        cores, std::min<size_t>(wanted, intervals.size()), decoder_memory(*request.codec), request.decode_memory_bytes);
    result.parallelism = memory.parallelism();
    const size_t workers_count = result.parallelism.workers;
    const int decoder_threads = result.parallelism.threads;

    WorkQueue work(intervals, work_order(index, intervals, workers_count, static_cast<bool>(observer.frame_ready)));
    InOrderFrames in_order(work, result, observer.frame_ready, observer.keep_jpegs);
    // The first failure stops the others; what they then fail with is a consequence, not the reason.
    std::mutex failure_mutex;
    std::exception_ptr failure;
    std::vector<WorkerResult> results(workers_count);
    std::atomic<size_t> finished{0};
    std::vector<std::thread> workers;
    // Whatever leaves this scope (a callback's exception, a thread being ended), the workers stop and are joined:
    // a joinable std::thread destroyed would abort the process.
    struct JoinWorkers
    {
        WorkQueue& work;
        std::vector<std::thread>& workers;
        ~JoinWorkers()
        {
            work.stop = true;
            for (auto& t : workers)
                if (t.joinable())
                    t.join();
        }
    } join_workers{work, workers};
    for (size_t w = 0; w < workers_count; ++w)
        workers.emplace_back([&, w] {
            try {
                results[w] = run_worker(request, index, work, decoder_threads);
            } catch (...) {
                if (caught_foreign_exception())
                    throw;
                std::lock_guard lock(failure_mutex);
                if (!failure)
                    failure = std::current_exception();
                work.stop = true;
            }
            ++finished;
        });
    // Callbacks belong to the calling thread: it watches the workers, reports progress and relays cancellation.
    while (finished < workers.size()) {
        if (observer.cancelled && observer.cancelled())
            work.stop = true;
        if (observer.progress)
            observer.progress(double(work.done) / double(targets.size()));
        if (!failure_seen(failure_mutex, failure))
            in_order.advance();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (auto& t : workers)
        t.join();
    if (observer.cancelled && observer.cancelled())
        throw MediaCancelled();
    if (failure)
        std::rethrow_exception(failure);

    in_order.advance();
    for (auto& r : results) {
        result.warnings.insert(result.warnings.end(), r.warnings.begin(), r.warnings.end());
        result.skipped_references += r.skipped_references;
        result.pictures_decoded += r.pictures_decoded;
        result.pictures_on_gpu += r.pictures_on_gpu;
    }
    if (observer.progress)
        observer.progress(1.0);
    return result;
}

} // namespace jarvis
