/* The core count a process sees through get_nprocs (std::thread::hardware_concurrency in libstdc++), from the
 * environment's FAKE_CORES: decode_memory_bench.py preloads it to start as many decoders as a larger machine would,
 * while the work itself runs on this machine's cores. */
#include <stdlib.h>

int get_nprocs(void)
{
    const char* cores = getenv("FAKE_CORES");
    const int n = cores ? atoi(cores) : 0;
    return n > 0 ? n : 1;
}

int get_nprocs_conf(void)
{
    return get_nprocs();
}
