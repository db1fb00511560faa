#pragma once

// Just enough of H.264's parameter sets and slice headers (ITU-T H.264 §7.3.2.1, 7.3.2.2, 7.3.3) to know which
// pictures a picture predicts from: frame_num, the reference list sizes and modifications, and reference marking.
// Nothing here decodes pixels. Anything outside what is modelled is reported as "cannot tell" (nullopt/false),
// and callers then decode everything.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

namespace jarvis::h264 {

struct Sps
{
    int chroma_array_type = 1;
    uint32_t log2_max_frame_num = 4;
    uint32_t poc_type = 0;
    uint32_t log2_max_poc_lsb = 4;
    bool delta_pic_order_always_zero = false;
    uint32_t max_num_ref_frames = 0;
    bool gaps_in_frame_num_allowed = false;
    bool frame_mbs_only = true;
    bool separate_colour_plane = false;
};

struct Pps
{
    uint32_t sps_id = 0;
    bool bottom_field_pic_order_present = false;
    uint32_t num_slice_groups = 1;
    uint32_t num_ref_idx_default[2] = {1, 1};
    bool weighted_pred = false;
    uint32_t weighted_bipred_idc = 0;
    bool redundant_pic_cnt_present = false;
};

enum class SliceType { p = 0, b = 1, i = 2, sp = 3, si = 4 };

struct ListModification
{
    uint32_t idc = 3;   // 0: subtract from the predicted picNum, 1: add, 2: long-term
    uint32_t value = 0; // abs_diff_pic_num_minus1 or long_term_pic_num
};

struct MemoryOperation
{
    uint32_t op = 0;                            // memory_management_control_operation
    uint32_t difference_of_pic_nums_minus1 = 0; // for operations 1 and 3
};

struct SliceHeader
{
    int nal_ref_idc = 0;
    bool idr = false;
    SliceType type = SliceType::i;
    uint32_t pps_id = 0;
    uint32_t frame_num = 0;
    uint32_t poc_lsb = 0;          // picture order count type 0
    int32_t delta_poc_bottom = 0;
    uint32_t num_ref_idx_active[2] = {0, 0};
    std::vector<ListModification> modifications[2];
    bool long_term_reference = false;  // IDR marked long-term
    bool adaptive_marking = false;     // memory management operations instead of the sliding window
    std::vector<MemoryOperation> memory_operations;
};

// The parameter sets seen so far, by id.
struct ParameterSets
{
    std::map<uint32_t, Sps> sps;
    std::map<uint32_t, Pps> pps;
    const Sps* sps_of(const Pps& p) const;
};

// Reads one NAL unit (header byte included, emulation prevention bytes still in): stores an SPS or PPS in `sets`,
// returns a slice header for slice NAL units (types 1 and 5). Nothing for other units or for what it cannot read
// (data partitioning, field coding, slice groups, unknown parameter set ids, truncated headers).
struct NalResult
{
    bool is_slice = false;
    bool readable = true; // false: a slice or parameter set that could not be read
    SliceHeader slice;
};
NalResult read_nal(const uint8_t* nal, size_t size, ParameterSets& sets);

// Calls `each` for every NAL unit in `data`: length-prefixed (`length_size` 1..4 bytes, as in MP4's avcC) or, with
// `length_size` 0, Annex B start codes. Returns false if the framing is broken.
bool for_each_nal(const uint8_t* data, size_t size, int length_size, const std::function<void(const uint8_t*, size_t)>& each);

// The NAL length size and parameter sets in a stream's extradata (avcC or Annex B). Returns the length size (0 for
// Annex B), or nothing when the extradata is not H.264's.
std::optional<int> read_extradata(const uint8_t* data, size_t size, ParameterSets& sets);

} // namespace jarvis::h264
