#include "media/stream_seek.hpp"

#include <string_view>

namespace jarvis {

int seek_stream(AVFormatContext* fmt, int stream_index, int64_t pts, int flags)
{
    const int rc = av_seek_frame(fmt, stream_index, pts, flags);
    // Only a single file has the context's reader for its picture (a numbered sequence opens each file anew), and it
    // has one picture: the start is where any seek of it lands.
    if (rc >= 0 && fmt->pb != nullptr && fmt->iformat != nullptr && std::string_view(fmt->iformat->name) == "image2")
        return avio_seek(fmt->pb, 0, SEEK_SET) < 0 ? -1 : rc;
    return rc;
}

} // namespace jarvis
