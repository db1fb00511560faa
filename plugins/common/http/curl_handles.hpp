#pragma once

// RAII owners for libcurl handles.
#include <curl/curl.h>

#include <memory>

namespace jarvis::curl {

struct EasyCleanup
{
    void operator()(CURL* p) const { curl_easy_cleanup(p); }
};
struct SlistFree
{
    void operator()(curl_slist* p) const { curl_slist_free_all(p); }
};

using Easy = std::unique_ptr<CURL, EasyCleanup>;
using Slist = std::unique_ptr<curl_slist, SlistFree>;

// curl_global_init, once per process, before the first handle.
void ensure_global_init();

} // namespace jarvis::curl
