#include "heif_grid.hpp"

#include "fixtures.hpp"

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace fs = std::filesystem;

namespace jarvis::test {
namespace {

using Bytes = std::string;

uint64_t big_endian(const Bytes& b, size_t at, size_t size)
{
    uint64_t value = 0;
    for (size_t i = 0; i < size; ++i)
        value = value << 8 | static_cast<uint8_t>(b.at(at + i));
    return value;
}

Bytes big_endian_bytes(uint64_t value, size_t size)
{
    Bytes out(size, '\0');
    for (size_t i = 0; i < size; ++i)
        out[size - 1 - i] = static_cast<char>(value >> (8 * i));
    return out;
}

Bytes u16(uint64_t value) { return big_endian_bytes(value, 2); }
Bytes u32(uint64_t value) { return big_endian_bytes(value, 4); }

Bytes box(const char* type, const Bytes& payload) { return u32(8 + payload.size()) + type + payload; }

Bytes full_box(const char* type, uint32_t version_and_flags, const Bytes& payload) { return box(type, u32(version_and_flags) + payload); }

// Where the contents of the first `type` box between `begin` and `end` start and end.
std::pair<size_t, size_t> child_box(const Bytes& b, size_t begin, size_t end, const char* type)
{
    for (size_t at = begin; at + 8 <= end;) {
        const size_t size = big_endian(b, at, 4);
        if (size < 8 || at + size > end)
            break;
        if (b.compare(at + 4, 4, type) == 0)
            return {at + 8, at + size};
        at += size;
    }
    throw std::runtime_error(std::string("no '") + type + "' box where expected");
}

struct Tile
{
    Bytes hvcc_box; // the decoder configuration, whole
    Bytes coded;    // the picture's NAL units
};

// A single-picture HEIF's decoder configuration and its one item's data (heif-enc writes one extent, in the file).
Tile read_tile(const fs::path& heif)
{
    const Bytes b = read_file(heif);
    const auto [meta_begin, meta_end] = child_box(b, 0, b.size(), "meta");
    const size_t meta = meta_begin + 4; // after its version and flags
    const auto [iprp_begin, iprp_end] = child_box(b, meta, meta_end, "iprp");
    const auto [ipco_begin, ipco_end] = child_box(b, iprp_begin, iprp_end, "ipco");
    const auto [hvcc_begin, hvcc_end] = child_box(b, ipco_begin, ipco_end, "hvcC");
    Tile tile;
    tile.hvcc_box = b.substr(hvcc_begin - 8, hvcc_end - hvcc_begin + 8);

    const auto [iloc_begin, iloc_end] = child_box(b, meta, meta_end, "iloc");
    const int version = static_cast<uint8_t>(b.at(iloc_begin));
    size_t at = iloc_begin + 4;
    const size_t offset_size = static_cast<uint8_t>(b.at(at)) >> 4;
    const size_t length_size = static_cast<uint8_t>(b.at(at)) & 15;
    const size_t base_size = static_cast<uint8_t>(b.at(at + 1)) >> 4;
    const size_t index_size = version >= 1 ? static_cast<uint8_t>(b.at(at + 1)) & 15 : 0;
    at += 2;
    at += version < 2 ? 2 : 4; // item count
    at += version < 2 ? 2 : 4; // the first item's id
    if (version >= 1) {
        if ((big_endian(b, at, 2) & 15) != 0)
            throw std::runtime_error(heif.string() + ": the picture is not stored in the file's data");
        at += 2;
    }
    at += 2; // data reference index
    const uint64_t base = big_endian(b, at, base_size);
    at += base_size;
    if (big_endian(b, at, 2) != 1)
        throw std::runtime_error(heif.string() + ": the picture is not in one piece");
    at += 2 + index_size;
    const uint64_t offset = base + big_endian(b, at, offset_size);
    const uint64_t length = big_endian(b, at + offset_size, length_size);
    if (at + offset_size + length_size > iloc_end || offset + length > b.size())
        throw std::runtime_error(heif.string() + ": its item location is out of bounds");
    tile.coded = b.substr(offset, length);
    return tile;
}

} // namespace

void make_heif_grid(const fs::path& out, const std::vector<fs::path>& tile_files, int tile_width, int tile_height)
{
    if (tile_files.size() != 4)
        throw std::invalid_argument("a 2x2 grid takes four tiles");
    std::vector<Tile> tiles;
    for (const auto& file : tile_files)
        tiles.push_back(read_tile(file));
    const int width = 2 * tile_width - 8;
    const int height = 2 * tile_height - 8;
    constexpr uint32_t hidden = 1;

    // Item 1 is the grid (its description in idat), items 2 to 5 its tiles in rows.
    const Bytes grid_description = Bytes(1, '\0') + Bytes(1, '\0') + Bytes(1, '\1') + Bytes(1, '\1') + u16(width) + u16(height);
    const auto item_info = [](int id, const char* type, uint32_t flags) {
        return full_box("infe", 2u << 24 | flags, u16(id) + u16(0) + type + Bytes(1, '\0'));
    };
    Bytes infos = item_info(1, "grid", 0);
    Bytes to_tiles = u16(1) + u16(4);
    Bytes properties;
    Bytes associations = u32(5) + u16(1) + Bytes(1, '\1') + Bytes(1, '\6'); // the grid: its size (property 6)
    for (int k = 0; k < 4; ++k) {
        infos += item_info(2 + k, "hvc1", hidden);
        to_tiles += u16(2 + k);
        properties += tiles[static_cast<size_t>(k)].hvcc_box;
        // A tile: its decoder configuration (essential) and the tiles' size (property 5).
        associations += u16(2 + k) + Bytes(1, '\2') + Bytes(1, static_cast<char>(0x80 | (1 + k))) + Bytes(1, '\5');
    }
    properties += full_box("ispe", 0, u32(tile_width) + u32(tile_height));
    properties += full_box("ispe", 0, u32(width) + u32(height));

    const auto meta_with_data_at = [&](uint64_t mdat_payload) {
        // iloc version 1: 4-byte offsets and lengths, no base offset; the grid from idat (construction method 1).
        Bytes locations = Bytes(1, '\x44') + Bytes(1, '\0') + u16(5);
        locations += u16(1) + u16(1) + u16(0) + u16(1) + u32(0) + u32(grid_description.size());
        uint64_t offset = mdat_payload;
        for (int k = 0; k < 4; ++k) {
            const Bytes& coded = tiles[static_cast<size_t>(k)].coded;
            locations += u16(2 + k) + u16(0) + u16(0) + u16(1) + u32(offset) + u32(coded.size());
            offset += coded.size();
        }
        return full_box("meta", 0,
                        full_box("hdlr", 0, u32(0) + "pict" + Bytes(12, '\0') + Bytes(1, '\0')) + full_box("pitm", 0, u16(1)) +
                            full_box("iloc", 1u << 24, locations) + full_box("iinf", 0, u16(5) + infos) +
                            full_box("iref", 0, box("dimg", to_tiles)) + box("iprp", box("ipco", properties) + full_box("ipma", 0, associations)) +
                            box("idat", grid_description));
    };
    const Bytes file_type = box("ftyp", Bytes("heic") + u32(0) + "mif1heic");
    const size_t header_size = file_type.size() + meta_with_data_at(0).size();
    Bytes data;
    for (const auto& tile : tiles)
        data += tile.coded;
    std::ofstream(out, std::ios::binary | std::ios::trunc) << file_type << meta_with_data_at(header_size + 8) << box("mdat", data);
}

} // namespace jarvis::test
