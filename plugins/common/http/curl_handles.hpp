#pragma once

// RAII owners for libcurl handles.
#include <curl/curl.h>

#include <memory>

namespace jarvis::curl {

struct EasyCleanup
{
    void operator()(CURL* p) const { curl_easy_cleanup(p); }
};
struct MultiCleanup
{
    void operator()(CURLM* p) const { curl_multi_cleanup(p); }
};
struct SlistFree
{
    void operator()(curl_slist* p) const { curl_slist_free_all(p); }
};
struct UrlCleanup
{
    void operator()(CURLU* p) const { curl_url_cleanup(p); }
};
struct Free
{
    void operator()(char* p) const { curl_free(p); }
};

using Easy = std::unique_ptr<CURL, EasyCleanup>;
using Multi = std::unique_ptr<CURLM, MultiCleanup>;
using Slist = std::unique_ptr<curl_slist, SlistFree>;
using Url = std::unique_ptr<CURLU, UrlCleanup>;
using String = std::unique_ptr<char, Free>; // text libcurl allocated

// An easy handle attached to a multi handle for the attachment's lifetime.
class Attached
{
public:
    Attached(CURLM* multi, CURL* easy) : multi_(multi), easy_(easy) { curl_multi_add_handle(multi_, easy_); }
    ~Attached() { curl_multi_remove_handle(multi_, easy_); }
    Attached(const Attached&) = delete;
    Attached& operator=(const Attached&) = delete;

private:
    CURLM* multi_;
    CURL* easy_;
};

// curl_global_init, once per process, before the first handle.
void ensure_global_init();

} // namespace jarvis::curl
