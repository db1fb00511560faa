// A thread being ended by pthread_exit or pthread_cancel unwinds its stack with a "forced unwind", which is not a
// C++ exception. Python ends this way every daemon thread that calls back into it during interpreter exit, and such
// a thread may be inside a plugin call. A catch (...) that swallows it aborts the process ("FATAL: exception not
// rethrown"); so does a noexcept frame on its way. Every catch (...) on a path that calls the host begins with
//     if (jarvis::caught_foreign_exception()) throw;
#pragma once

#include <exception>

namespace jarvis {

// Inside a catch (...): true when what was caught is not a C++ exception (a forced unwind, or another language's),
// which must go on. std::current_exception() is empty for those; naming abi::__forced_unwind in a handler would
// bind a reference to an object that does not exist.
inline bool caught_foreign_exception() noexcept { return !std::current_exception(); }

} // namespace jarvis
