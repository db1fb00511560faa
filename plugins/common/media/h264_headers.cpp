#include "media/h264_headers.hpp"

#include <algorithm>

namespace jarvis::h264 {
namespace {

// Headers are short; this much of a NAL unit is unescaped and read.
constexpr size_t header_bytes = 1024;

// Reads bits MSB first from an RBSP. Reading past the end sets `overrun` and yields zeros, so parsers check once
// at the end instead of after every field.
class BitReader
{
public:
    explicit BitReader(std::vector<uint8_t> rbsp) : data_(std::move(rbsp)) {}

    uint32_t bits(int n)
    {
        uint32_t value = 0;
        for (int i = 0; i < n; ++i)
            value = (value << 1) | bit();
        return value;
    }
    bool flag() { return bit() != 0; }

    uint32_t ue()
    {
        int zeros = 0;
        while (bit() == 0) {
            if (++zeros > 31) {
                overrun = true;
                return 0;
            }
        }
        return zeros == 0 ? 0 : ((1u << zeros) - 1) + bits(zeros);
    }
    int32_t se()
    {
        const uint32_t k = ue();
        return (k & 1) ? static_cast<int32_t>((k + 1) / 2) : -static_cast<int32_t>(k / 2);
    }

    bool overrun = false;

private:
    uint32_t bit()
    {
        if (position_ >= data_.size() * 8) {
            overrun = true;
            return 0;
        }
        const uint32_t value = (data_[position_ / 8] >> (7 - position_ % 8)) & 1u;
        ++position_;
        return value;
    }

    std::vector<uint8_t> data_;
    size_t position_ = 0;
};

// The payload after the NAL header byte with emulation prevention bytes (00 00 03) removed.
std::vector<uint8_t> unescape(const uint8_t* nal, size_t size)
{
    std::vector<uint8_t> rbsp;
    const size_t end = std::min(size, header_bytes);
    rbsp.reserve(end);
    int zeros = 0;
    for (size_t i = 1; i < end; ++i) {
        if (zeros >= 2 && nal[i] == 3) {
            zeros = 0;
            continue;
        }
        zeros = nal[i] == 0 ? zeros + 1 : 0;
        rbsp.push_back(nal[i]);
    }
    return rbsp;
}

void skip_scaling_list(BitReader& in, int size)
{
    int last = 8;
    int next = 8;
    for (int j = 0; j < size; ++j) {
        if (next != 0)
            // delta_scale is -128..127 in a valid stream; a damaged one can say anything, so wrap as the spec's
            // (last + delta + 256) % 256 does for valid values without overflowing on the others.
            next = static_cast<int>((static_cast<int64_t>(last) + in.se()) & 0xff);
        last = next == 0 ? last : next;
    }
}

bool read_sps(BitReader in, ParameterSets& sets)
{
    Sps sps;
    const uint32_t profile = in.bits(8);
    in.bits(16); // constraint flags, level
    const uint32_t id = in.ue();
    uint32_t chroma_format_idc = 1;
    static constexpr uint32_t high_profiles[] = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135};
    if (std::find(std::begin(high_profiles), std::end(high_profiles), profile) != std::end(high_profiles)) {
        chroma_format_idc = in.ue();
        if (chroma_format_idc == 3)
            sps.separate_colour_plane = in.flag();
        in.ue(); // bit_depth_luma_minus8
        in.ue(); // bit_depth_chroma_minus8
        in.flag(); // qpprime_y_zero_transform_bypass
        if (in.flag()) // seq_scaling_matrix_present
            for (int i = 0; i < (chroma_format_idc != 3 ? 8 : 12); ++i)
                if (in.flag())
                    skip_scaling_list(in, i < 6 ? 16 : 64);
    }
    sps.chroma_array_type = sps.separate_colour_plane ? 0 : static_cast<int>(chroma_format_idc);
    sps.log2_max_frame_num = in.ue() + 4;
    sps.poc_type = in.ue();
    if (sps.poc_type == 0) {
        sps.log2_max_poc_lsb = in.ue() + 4;
    } else if (sps.poc_type == 1) {
        sps.delta_pic_order_always_zero = in.flag();
        in.se(); // offset_for_non_ref_pic
        in.se(); // offset_for_top_to_bottom_field
        const uint32_t cycle = in.ue();
        if (cycle > 255)
            return false;
        for (uint32_t i = 0; i < cycle; ++i)
            in.se();
    }
    sps.max_num_ref_frames = in.ue();
    sps.gaps_in_frame_num_allowed = in.flag();
    in.ue(); // pic_width_in_mbs_minus1
    in.ue(); // pic_height_in_map_units_minus1
    sps.frame_mbs_only = in.flag();
    if (in.overrun || id > 31 || sps.log2_max_frame_num > 16 || sps.log2_max_poc_lsb > 16 || sps.max_num_ref_frames > 16)
        return false;
    sets.sps[id] = sps;
    return true;
}

bool read_pps(BitReader in, ParameterSets& sets)
{
    Pps pps;
    const uint32_t id = in.ue();
    pps.sps_id = in.ue();
    in.flag(); // entropy_coding_mode
    pps.bottom_field_pic_order_present = in.flag();
    pps.num_slice_groups = in.ue() + 1;
    if (pps.num_slice_groups != 1) // slice group maps are not modelled: such a PPS is unknown, its slices unreadable
        return false;
    pps.num_ref_idx_default[0] = in.ue() + 1;
    pps.num_ref_idx_default[1] = in.ue() + 1;
    pps.weighted_pred = in.flag();
    pps.weighted_bipred_idc = in.bits(2);
    in.se(); // pic_init_qp_minus26
    in.se(); // pic_init_qs_minus26
    in.se(); // chroma_qp_index_offset
    in.flag(); // deblocking_filter_control_present
    in.flag(); // constrained_intra_pred
    pps.redundant_pic_cnt_present = in.flag();
    if (in.overrun || id > 255 || pps.num_ref_idx_default[0] > 32 || pps.num_ref_idx_default[1] > 32)
        return false;
    sets.pps[id] = pps;
    return true;
}

bool read_list_modifications(BitReader& in, std::vector<ListModification>& out)
{
    if (!in.flag())
        return true;
    for (int n = 0; n < 33; ++n) {
        ListModification m;
        m.idc = in.ue();
        if (m.idc == 3)
            return true;
        if (m.idc > 3 || in.overrun)
            return false;
        m.value = in.ue();
        out.push_back(m);
    }
    return false;
}

void skip_weight_table(BitReader& in, const Sps& sps, const SliceHeader& s)
{
    in.ue(); // luma_log2_weight_denom
    if (sps.chroma_array_type != 0)
        in.ue(); // chroma_log2_weight_denom
    for (int list = 0; list < (s.type == SliceType::b ? 2 : 1); ++list)
        for (uint32_t i = 0; i < s.num_ref_idx_active[list]; ++i) {
            if (in.flag()) {
                in.se();
                in.se();
            }
            if (sps.chroma_array_type != 0 && in.flag())
                for (int c = 0; c < 4; ++c)
                    in.se();
        }
}

bool read_marking(BitReader& in, SliceHeader& s)
{
    if (s.idr) {
        in.flag(); // no_output_of_prior_pics
        s.long_term_reference = in.flag();
        return true;
    }
    s.adaptive_marking = in.flag();
    if (!s.adaptive_marking)
        return true;
    for (int n = 0; n < 66; ++n) {
        MemoryOperation op;
        op.op = in.ue();
        if (op.op == 0)
            return true;
        if (op.op > 6 || in.overrun)
            return false;
        if (op.op == 1 || op.op == 3)
            op.difference_of_pic_nums_minus1 = in.ue();
        if (op.op == 2)
            in.ue(); // long_term_pic_num
        if (op.op == 3 || op.op == 6)
            in.ue(); // long_term_frame_idx
        if (op.op == 4)
            in.ue(); // max_long_term_frame_idx_plus1
        s.memory_operations.push_back(op);
    }
    return false;
}

bool read_slice(BitReader in, int nal_ref_idc, bool idr, const ParameterSets& sets, SliceHeader& s)
{
    s.nal_ref_idc = nal_ref_idc;
    s.idr = idr;
    in.ue(); // first_mb_in_slice
    const uint32_t type = in.ue();
    if (type > 9)
        return false;
    s.type = static_cast<SliceType>(type % 5);
    s.pps_id = in.ue();
    const auto pps_it = sets.pps.find(s.pps_id);
    if (pps_it == sets.pps.end())
        return false;
    const Pps& pps = pps_it->second;
    const Sps* sps_ptr = sets.sps_of(pps);
    if (!sps_ptr || !sps_ptr->frame_mbs_only) // field pictures are not modelled
        return false;
    const Sps& sps = *sps_ptr;
    if (sps.separate_colour_plane)
        in.bits(2);
    s.frame_num = in.bits(static_cast<int>(sps.log2_max_frame_num));
    if (idr)
        in.ue(); // idr_pic_id
    if (sps.poc_type == 0) {
        s.poc_lsb = in.bits(static_cast<int>(sps.log2_max_poc_lsb));
        if (pps.bottom_field_pic_order_present)
            s.delta_poc_bottom = in.se();
    }
    if (sps.poc_type == 1 && !sps.delta_pic_order_always_zero) {
        in.se();
        if (pps.bottom_field_pic_order_present)
            in.se();
    }
    if (pps.redundant_pic_cnt_present && in.ue() != 0) // a redundant copy of a picture: not modelled
        return false;
    if (s.type == SliceType::b)
        in.flag(); // direct_spatial_mv_pred
    if (s.type == SliceType::p || s.type == SliceType::sp || s.type == SliceType::b) {
        s.num_ref_idx_active[0] = pps.num_ref_idx_default[0];
        s.num_ref_idx_active[1] = s.type == SliceType::b ? pps.num_ref_idx_default[1] : 0;
        if (in.flag()) {
            s.num_ref_idx_active[0] = in.ue() + 1;
            if (s.type == SliceType::b)
                s.num_ref_idx_active[1] = in.ue() + 1;
        }
        if (s.num_ref_idx_active[0] > 32 || s.num_ref_idx_active[1] > 32)
            return false;
    }
    if (s.type != SliceType::i && s.type != SliceType::si) {
        if (!read_list_modifications(in, s.modifications[0]))
            return false;
        if (s.type == SliceType::b && !read_list_modifications(in, s.modifications[1]))
            return false;
    }
    if ((pps.weighted_pred && (s.type == SliceType::p || s.type == SliceType::sp)) ||
        (pps.weighted_bipred_idc == 1 && s.type == SliceType::b))
        skip_weight_table(in, sps, s);
    if (nal_ref_idc != 0 && !read_marking(in, s))
        return false;
    return !in.overrun;
}

} // namespace

const Sps* ParameterSets::sps_of(const Pps& p) const
{
    const auto it = sps.find(p.sps_id);
    return it == sps.end() ? nullptr : &it->second;
}

NalResult read_nal(const uint8_t* nal, size_t size, ParameterSets& sets)
{
    NalResult result;
    if (size < 2 || (nal[0] & 0x80) != 0) {
        result.readable = false;
        return result;
    }
    const int ref_idc = (nal[0] >> 5) & 3;
    const int type = nal[0] & 0x1f;
    switch (type) {
    case 1:
    case 5:
        result.is_slice = true;
        result.readable = read_slice(BitReader(unescape(nal, size)), ref_idc, type == 5, sets, result.slice);
        break;
    case 2: // data partition A: its headers are not modelled
        result.is_slice = true;
        result.readable = false;
        break;
    case 7:
        result.readable = read_sps(BitReader(unescape(nal, size)), sets);
        break;
    case 8:
        result.readable = read_pps(BitReader(unescape(nal, size)), sets);
        break;
    default:
        break;
    }
    return result;
}

bool for_each_nal(const uint8_t* data, size_t size, int length_size, const std::function<void(const uint8_t*, size_t)>& each)
{
    if (length_size > 0) {
        size_t pos = 0;
        while (pos + static_cast<size_t>(length_size) <= size) {
            size_t length = 0;
            for (int i = 0; i < length_size; ++i)
                length = (length << 8) | data[pos + static_cast<size_t>(i)];
            pos += static_cast<size_t>(length_size);
            if (length > size - pos)
                return false;
            if (length > 0)
                each(data + pos, length);
            pos += length;
        }
        return pos == size;
    }
    // Annex B: units start after 00 00 01; trailing zeros before the next start code belong to no unit.
    auto next_start = [&](size_t from) {
        for (size_t i = from; i + 3 <= size; ++i)
            if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1)
                return i;
        return size;
    };
    size_t start = next_start(0);
    if (start == size)
        return false;
    while (start < size) {
        const size_t begin = start + 3;
        const size_t next = next_start(begin);
        size_t end = next;
        while (end > begin && data[end - 1] == 0)
            --end;
        if (end > begin)
            each(data + begin, end - begin);
        start = next;
    }
    return true;
}

std::optional<int> read_extradata(const uint8_t* data, size_t size, ParameterSets& sets)
{
    if (size == 0 || data == nullptr)
        return 0; // parameter sets come in band (MPEG-TS)
    if (data[0] != 1) { // Annex B
        if (!for_each_nal(data, size, 0, [&](const uint8_t* nal, size_t n) { read_nal(nal, n, sets); }))
            return std::nullopt;
        return 0;
    }
    // avcC: version, profile, compatibility, level, length size, then counted SPS and PPS lists.
    if (size < 7)
        return std::nullopt;
    const int length_size = (data[4] & 3) + 1;
    size_t pos = 5;
    for (int list = 0; list < 2; ++list) {
        if (pos >= size)
            return std::nullopt;
        const int count = list == 0 ? (data[pos] & 0x1f) : data[pos];
        ++pos;
        for (int i = 0; i < count; ++i) {
            if (pos + 2 > size)
                return std::nullopt;
            const size_t length = (size_t(data[pos]) << 8) | data[pos + 1];
            pos += 2;
            if (length > size - pos)
                return std::nullopt;
            read_nal(data + pos, length, sets);
            pos += length;
        }
    }
    return length_size;
}

} // namespace jarvis::h264
