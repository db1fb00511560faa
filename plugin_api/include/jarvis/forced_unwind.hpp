// A thread being ended by pthread_exit or pthread_cancel unwinds its stack with a "forced unwind" exception. Python
// ends this way every daemon thread that calls back into it during interpreter exit, and such a thread may be inside
// a plugin call. A catch (...) that swallows it aborts the process ("FATAL: exception not rethrown"); so does a
// noexcept frame on its way. JARVIS_RETHROW_FORCED_UNWIND, placed before a catch (...), lets it pass.
#pragma once

#if defined(__GLIBCXX__) && !defined(_WIN32)
#include <cxxabi.h>
#define JARVIS_RETHROW_FORCED_UNWIND                                                                                   \
    catch (abi::__forced_unwind&) { throw; }
#else
#define JARVIS_RETHROW_FORCED_UNWIND
#endif
