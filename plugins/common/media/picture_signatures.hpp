#pragma once

extern "C" {
#include <libavformat/avio.h>
}

#include <string>
#include <string_view>

namespace jarvis {

// Picture formats that FFmpeg 5.1, which this module is built with on Linux and Windows, reads wrongly or not at all,
// told apart by their first bytes so that a message can say what the file is instead of what FFmpeg made of it.

// Whether the file `io` reads is an animated WebP (its VP8X header's animation flag): FFmpeg 5.1 decodes still WebP
// pictures only, and reports an animated one as a stream without a picture size. Leaves `io` just past that header.
bool is_animated_webp(AVIOContext* io);

// "HEIC" when `head`, a file's first bytes, opens an ISO BMFF "ftyp" box naming a HEIF brand of HEVC pictures (as
// iPhones save photos): FFmpeg 5.1 reads HEIF only for AVIF, and calls any other "moov atom not found". Empty when it
// names none. The brands are ISO/IEC 23008-12's: image brands heic, heix, heim, heis, sequence brands hevc, hevx, and
// the structural mif1 and msf1 (a HEIF of any codec: an AVIF with those and no "avif" brand is not one FFmpeg reads).
std::string heif_kind(std::string_view head);

} // namespace jarvis
