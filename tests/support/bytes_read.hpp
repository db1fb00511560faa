#pragma once

// Header only, so that the benchmarks use it too.
#include <cstdint>
#include <fstream>
#include <string>

namespace jarvis::test {

// Bytes this process has read through read(2) and the like so far (/proc/self/io's rchar); -1 where it cannot tell.
inline int64_t bytes_read_so_far()
{
    std::ifstream io("/proc/self/io");
    std::string key;
    int64_t value = 0;
    while (io >> key >> value)
        if (key == "rchar:")
            return value;
    return -1;
}

} // namespace jarvis::test
