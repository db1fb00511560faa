#include "media/h264_references.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavcodec/version.h>
}

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace jarvis::h264 {

bool replay_matches_this_ffmpeg()
{
    // The libavcodec series the bit-exact tests passed on: FFmpeg 5.1 (Debian 12) and 7.1 (Debian 13, by
    // scripts/check_ffmpeg_versions.sh). Built against one of them and running the same major, at least that minor.
    struct Series
    {
        unsigned major, minor;
    };
    constexpr Series checked[] = {{59, 37}, {61, 19}};
    const unsigned running = avcodec_version();
    for (const Series& s : checked)
        if (LIBAVCODEC_VERSION_MAJOR == s.major && LIBAVCODEC_VERSION_MINOR >= s.minor && AV_VERSION_MAJOR(running) == s.major &&
            AV_VERSION_MINOR(running) >= s.minor)
            return true;
    static const bool forced = [] {
        const char* value = std::getenv("JARVIS_H264_REPLAY_UNCHECKED");
        return value != nullptr && std::string_view(value) == "1";
    }();
    return forced;
}

namespace {

constexpr size_t placeholder = SIZE_MAX;    // a frame FFmpeg made up for a frame_num it did not see
constexpr size_t list_end = SIZE_MAX - 1;   // separates lists in a picture's signature

struct Entry
{
    size_t picture = placeholder;
    uint32_t frame_num = 0;
    int64_t poc = 0;
};

// What FFmpeg would do with the pictures marked decoded: per decoded picture its reference lists (as pictures) and
// its picture order count. `ok` false at `failed_at` when something is not modelled or a list names nothing.
struct Replay
{
    bool ok = true;
    size_t failed_at = 0;
    std::vector<std::vector<size_t>> lists;
    std::vector<int64_t> poc;
};

class Replayer
{
public:
    explicit Replayer(const std::vector<PictureHeaders>& pictures) : pictures_(pictures) {}

    Replay run(const std::vector<bool>& decoded)
    {
        Replay r;
        r.lists.resize(pictures_.size());
        r.poc.assign(pictures_.size(), 0);
        start_afresh();
        for (size_t i = 0; i < pictures_.size(); ++i) {
            if (!decoded[i])
                continue;
            if (!picture(i, r)) {
                r.ok = false;
                r.failed_at = i;
                return r;
            }
        }
        return r;
    }

private:
    // What FFmpeg's idr() leaves: no references, frame_num and order counts from zero (order count MSB 65536).
    void start_afresh()
    {
        dpb_.clear();
        prev_frame_num_ = 0;
        prev_frame_num_offset_ = 0;
        prev_poc_msb_ = 1 << 16;
        prev_poc_lsb_ = -1;
    }

    bool picture(size_t i, Replay& r)
    {
        const PictureHeaders& pic = pictures_[i];
        const Sps& sps = pic.sps;
        const SliceHeader& h = pic.slices.front();
        const uint32_t max_fn = 1u << sps.log2_max_frame_num;
        if (sps.poc_type == 1)
            return false;
        if (h.idr) {
            if (i != 0 || h.long_term_reference)
                return false;
            start_afresh();
        } else if (i == 0 || !fill_frame_num_gap(h.frame_num, sps)) {
            return false;
        }

        const int64_t frame_num_offset = h.idr ? 0 : prev_frame_num_offset_ + (h.frame_num < prev_frame_num_ ? max_fn : 0);
        int64_t poc = 0;
        int64_t poc_msb = 0;
        if (sps.poc_type == 0) {
            const int64_t max_lsb = int64_t(1) << sps.log2_max_poc_lsb;
            const auto lsb = int64_t(h.poc_lsb);
            if (prev_poc_lsb_ < 0)
                prev_poc_lsb_ = lsb;
            poc_msb = prev_poc_msb_;
            if (lsb < prev_poc_lsb_ && prev_poc_lsb_ - lsb >= max_lsb / 2)
                poc_msb = prev_poc_msb_ + max_lsb;
            else if (lsb > prev_poc_lsb_ && prev_poc_lsb_ - lsb < -max_lsb / 2)
                poc_msb = prev_poc_msb_ - max_lsb;
            poc = std::min(poc_msb + lsb, poc_msb + lsb + h.delta_poc_bottom);
        } else {
            poc = h.idr ? 0 : 2 * (frame_num_offset + h.frame_num) - (h.nal_ref_idc == 0 ? 1 : 0);
        }
        r.poc[i] = poc;

        for (const auto& s : pic.slices) {
            if (s.type == SliceType::sp || s.type == SliceType::si)
                return false;
            if (s.type == SliceType::i)
                continue;
            std::vector<Entry> lists[2];
            initial_lists(s, poc, lists);
            for (int l = 0; l < (s.type == SliceType::b ? 2 : 1); ++l) {
                if (!modify(lists[l], s.modifications[l], s.num_ref_idx_active[l], h.frame_num, max_fn))
                    return false;
                for (const auto& e : lists[l])
                    r.lists[i].push_back(e.picture);
                r.lists[i].push_back(list_end);
            }
        }

        if (h.nal_ref_idc != 0) {
            if (h.idr) {
                dpb_.clear();
            } else if (h.adaptive_marking) {
                for (const auto& op : h.memory_operations) {
                    if (op.op != 1)
                        return false; // long-term references and resets are not modelled
                    const uint32_t fn = (h.frame_num - op.difference_of_pic_nums_minus1 - 1) & (max_fn - 1);
                    const auto found = std::find_if(dpb_.begin(), dpb_.end(), [&](const Entry& e) { return e.frame_num == fn; });
                    if (found != dpb_.end()) // FFmpeg logs and ignores an operation on a frame it does not have
                        dpb_.erase(found);
                }
            } else {
                slide(sps);
            }
            add(Entry{i, h.frame_num, poc}, sps, max_fn);
            if (sps.poc_type == 0) {
                prev_poc_msb_ = poc_msb;
                prev_poc_lsb_ = h.poc_lsb;
            }
        }
        prev_frame_num_ = h.frame_num;
        prev_frame_num_offset_ = frame_num_offset;
        return true;
    }

    // FFmpeg's h264_field_start: a frame_num that skips ahead gets placeholder frames for the numbers in between (at
    // most max_num_ref_frames of them), each marked by the sliding window, at the newest frame's order count + 2.
    bool fill_frame_num_gap(uint32_t frame_num, const Sps& sps)
    {
        const uint32_t max_fn = 1u << sps.log2_max_frame_num;
        if (frame_num != prev_frame_num_) {
            int64_t unwrapped = prev_frame_num_;
            if (unwrapped > frame_num)
                unwrapped -= max_fn;
            if (int64_t(frame_num) - unwrapped > sps.max_num_ref_frames) {
                int64_t shortened = int64_t(frame_num) - sps.max_num_ref_frames - 1;
                if (shortened < 0)
                    shortened += max_fn;
                prev_frame_num_ = static_cast<uint32_t>(shortened);
            }
        }
        while (frame_num != prev_frame_num_ && frame_num != (prev_frame_num_ + 1) % max_fn) {
            if (dpb_.empty())
                return false;
            prev_frame_num_ = (prev_frame_num_ + 1) % max_fn;
            const int64_t poc = dpb_.front().poc + 2;
            slide(sps);
            add(Entry{placeholder, prev_frame_num_, poc}, sps, max_fn);
        }
        return true;
    }

    void slide(const Sps& sps)
    {
        if (!dpb_.empty() && dpb_.size() >= sps.max_num_ref_frames)
            dpb_.pop_back(); // the oldest
    }

    // The current frame becomes the newest reference; then FFmpeg's overflow and placeholder-age limits.
    void add(const Entry& current, const Sps& sps, uint32_t max_fn)
    {
        dpb_.insert(dpb_.begin(), current);
        if (dpb_.size() > std::max<uint32_t>(sps.max_num_ref_frames, 1))
            dpb_.pop_back();
        if (!sps.gaps_in_frame_num_allowed)
            dpb_.erase(std::remove_if(dpb_.begin(), dpb_.end(),
                                      [&](const Entry& e) {
                                          return e.picture == placeholder &&
                                                 ((current.frame_num - e.frame_num) & (max_fn - 1)) > sps.max_num_ref_frames;
                                      }),
                       dpb_.end());
    }

    // §8.2.4.2.1 (P: by PicNum, newest first, which is FFmpeg's insertion order) and §8.2.4.2.3 (B: by order count
    // around the current picture).
    void initial_lists(const SliceHeader& s, int64_t poc, std::vector<Entry> lists[2]) const
    {
        if (s.type == SliceType::p) {
            lists[0] = dpb_;
            return;
        }
        const std::vector<Entry> before = by_order_count(poc, true);
        const std::vector<Entry> after = by_order_count(poc, false);
        lists[0] = before;
        lists[0].insert(lists[0].end(), after.begin(), after.end());
        lists[1] = after;
        lists[1].insert(lists[1].end(), before.begin(), before.end());
        const auto same = [](const Entry& a, const Entry& b) { return a.picture == b.picture && a.frame_num == b.frame_num; };
        if (lists[1].size() > 1 && std::equal(lists[0].begin(), lists[0].end(), lists[1].begin(), lists[1].end(), same))
            std::swap(lists[1][0], lists[1][1]);
    }

    // FFmpeg's add_sorted(): the references at or before `limit` (`before`, nearest first) or after it (ascending).
    // Of frames with the same order count only one is listed, and a later one in the buffer wins the tie in the
    // `before` direction, which matters when a placeholder's made-up order count equals a real picture's.
    std::vector<Entry> by_order_count(int64_t limit, bool before) const
    {
        std::vector<Entry> out;
        for (;;) {
            const Entry* chosen = nullptr;
            int64_t best = before ? INT64_MIN : INT64_MAX;
            for (const auto& e : dpb_)
                if (((e.poc > limit) != before) && ((e.poc < best) != before)) {
                    best = e.poc;
                    chosen = &e;
                }
            if (chosen == nullptr)
                return out;
            out.push_back(*chosen);
            limit = chosen->poc - (before ? 1 : 0);
        }
    }

    // §8.2.4.3.1, as FFmpeg does it: truncated to the active size; a modification naming a frame that is not there
    // is a failure.
    bool modify(std::vector<Entry>& list, const std::vector<ListModification>& modifications, uint32_t active, uint32_t frame_num,
                uint32_t max_fn) const
    {
        if (list.size() > active)
            list.resize(active);
        int64_t predicted = frame_num;
        size_t index = 0;
        for (const auto& m : modifications) {
            if (m.idc > 1)
                return false;
            const int64_t difference = int64_t(m.value) + 1;
            predicted = (m.idc == 0 ? predicted - difference : predicted + difference) & (int64_t(max_fn) - 1);
            const auto found = std::find_if(dpb_.begin(), dpb_.end(), [&](const Entry& e) { return e.frame_num == predicted; });
            if (found == dpb_.end())
                return false;
            list.insert(list.begin() + static_cast<std::ptrdiff_t>(index), *found);
            const auto duplicate = std::find_if(list.begin() + static_cast<std::ptrdiff_t>(index) + 1, list.end(),
                                                [&](const Entry& e) { return e.picture == found->picture && e.frame_num == found->frame_num; });
            if (duplicate != list.end())
                list.erase(duplicate);
            ++index;
            if (list.size() > active)
                list.resize(active);
        }
        return true;
    }

    const std::vector<PictureHeaders>& pictures_;
    std::vector<Entry> dpb_; // short-term references, newest first
    uint32_t prev_frame_num_ = 0;
    int64_t prev_frame_num_offset_ = 0;
    int64_t prev_poc_msb_ = 1 << 16;
    int64_t prev_poc_lsb_ = -1;
};

// Marks what the decoded pictures name in their lists, back to the start.
void close_over(std::vector<bool>& decode, const Replay& truth)
{
    for (size_t i = decode.size(); i-- > 0;)
        if (decode[i])
            for (size_t used : truth.lists[i])
                if (used < decode.size())
                    decode[used] = true;
}

} // namespace

ReferenceAnalysis::ReferenceAnalysis(const uint8_t* extradata, size_t extradata_size)
{
    const std::optional<int> length_size = read_extradata(extradata, extradata_size, sets_);
    usable_ = length_size.has_value();
    length_size_ = length_size.value_or(0);
}

void ReferenceAnalysis::add_picture(const uint8_t* data, size_t size, bool target)
{
    PictureHeaders picture;
    picture.target = target;
    const bool framed = usable_ && for_each_nal(data, size, length_size_, [&](const uint8_t* nal, size_t n) {
        NalResult read = read_nal(nal, n, sets_);
        if (!read.readable) {
            picture.readable = false;
            return;
        }
        if (!read.is_slice)
            return;
        if (picture.slices.empty())
            picture.sps = *sets_.sps_of(sets_.pps.at(read.slice.pps_id));
        picture.slices.push_back(std::move(read.slice));
    });
    if (!framed || picture.slices.empty())
        picture.readable = false;
    for (const auto& s : picture.slices) {
        const SliceHeader& first = picture.slices.front();
        if (s.frame_num != first.frame_num || (s.nal_ref_idc != 0) != (first.nal_ref_idc != 0) || s.idr != first.idr ||
            s.poc_lsb != first.poc_lsb)
            picture.readable = false; // slices that disagree: not one picture as modelled
    }
    pictures_.push_back(std::move(picture));
}

std::optional<DecodePlan> ReferenceAnalysis::pictures_to_decode() const
{
    const size_t n = pictures_.size();
    if (n == 0 || !usable_)
        return std::nullopt;
    for (const auto& p : pictures_)
        if (!p.readable || p.sps.log2_max_frame_num != pictures_[0].sps.log2_max_frame_num ||
            p.sps.max_num_ref_frames != pictures_[0].sps.max_num_ref_frames)
            return std::nullopt;

    Replayer replayer(pictures_);
    const Replay truth = replayer.run(std::vector<bool>(n, true));
    if (!truth.ok)
        return std::nullopt;

    DecodePlan plan;
    std::vector<bool>& decode = plan.decode;
    decode.assign(n, false);
    for (size_t i = 0; i < n; ++i)
        decode[i] = pictures_[i].target;
    close_over(decode, truth);
    if (std::find(decode.begin(), decode.end(), true) != decode.end())
        decode[0] = true;

    // Until FFmpeg, skipping what is not decoded, would build every decoded picture's lists as the stream means them.
    bool consistent = false;
    for (size_t round = 0; round <= n && !consistent; ++round) {
        const Replay skipping = replayer.run(decode);
        size_t differs = n;
        for (size_t i = 0; i < n && differs == n; ++i)
            if (decode[i] && ((!skipping.ok && skipping.failed_at == i) || skipping.lists[i] != truth.lists[i] ||
                              skipping.poc[i] != truth.poc[i]))
                differs = i;
        consistent = differs == n;
        if (consistent)
            break;
        size_t k = differs;
        while (k > 0 && (decode[k - 1] || pictures_[k - 1].slices.front().nal_ref_idc == 0))
            --k;
        if (k == 0)
            return std::nullopt;
        decode[k - 1] = true;
        close_over(decode, truth);
    }

    if (!consistent)
        return std::nullopt;
    for (size_t i = 0; i < n; ++i)
        plan.skipped_references += pictures_[i].slices.front().nal_ref_idc != 0 && !decode[i] ? 1 : 0;
    return plan;
}

} // namespace jarvis::h264
