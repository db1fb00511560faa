#include "media/picture_signatures.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace jarvis {

bool is_animated_webp(AVIOContext* io)
{
    // RIFF, size, WEBP, then the extended header's chunk: VP8X, its size, and the flags byte (bit 1: animation).
    constexpr int header_bytes = 21;
    unsigned char header[header_bytes] = {};
    if (io == nullptr || avio_seek(io, 0, SEEK_SET) < 0 || avio_read(io, header, header_bytes) != header_bytes)
        return false;
    return std::memcmp(header, "RIFF", 4) == 0 && std::memcmp(header + 8, "WEBPVP8X", 8) == 0 && (header[20] & 0x02) != 0;
}

std::string heif_kind(std::string_view head)
{
    // size (32-bit, big-endian), "ftyp", major brand, minor version, then compatible brands to the box's end.
    if (head.size() < 16 || head.substr(4, 4) != "ftyp")
        return {};
    const auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(head[i])); };
    const uint32_t box_size = byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
    if (box_size < 16)
        return {};
    const size_t end = std::min<size_t>(box_size, head.size());
    constexpr std::array<std::string_view, 8> heif_brands = {"heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1"};
    bool heif = false;
    for (size_t at = 8; at + 4 <= end; at += at == 8 ? 8 : 4) { // the minor version, after the major brand, is no brand
        const std::string_view brand = head.substr(at, 4);
        if (brand == "avif" || brand == "avis")
            return {}; // FFmpeg reads an AVIF still and sequence
        for (const std::string_view known : heif_brands)
            heif = heif || brand == known;
    }
    return heif ? "HEIC" : "";
}

} // namespace jarvis
