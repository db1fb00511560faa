// What crosses the C boundary: errors as codes and messages (never exceptions), logs, streamed text,
// cancellation, and structs whose struct_size says they are older and smaller.
#include "fixtures.hpp"
#include "plugin_loader.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <mutex>
#include <vector>

using Catch::Matchers::Contains;
using jarvis::vision::Error;
using jarvis::vision::Provider;

namespace {

jarvis::vision::Plugin fixture(const char* file)
{
    return jarvis::host::load_plugin(jarvis::test::fixture_plugin_dir() / file);
}

jv_status status_of(const std::function<void()>& f)
{
    try {
        f();
    } catch (const Error& e) {
        return e.code();
    }
    return JV_OK;
}

} // namespace

TEST_CASE("a plugin's exceptions reach the host as codes and messages", "[boundary][errors]")
{
    const auto plugin = fixture("throwing.so");

    try {
        Provider p(plugin, R"({"throw_in_create": true})");
        FAIL("create should have failed");
    } catch (const Error& e) {
        CHECK(e.code() == JV_E_INTERNAL);
        CHECK_THAT(e.what(), Contains("create failed on purpose"));
    }

    Provider provider(plugin, "{}");
    CHECK_THROWS_WITH(provider.plan("{}"), Contains("plan failed on purpose"));
    CHECK(status_of([&] { provider.plan("{}"); }) == JV_E_INTERNAL);
    CHECK(status_of([&] { provider.plan(R"({"plugin_error": 1})"); }) == JV_E_MEDIA);
    CHECK_THROWS_WITH(provider.plan(R"({"plugin_error": 1})"), Contains("a media error on purpose"));
    CHECK_THROWS_WITH(provider.plan(R"({"not_std": 1})"), Contains("unknown exception"));

    std::string streamed;
    jarvis::vision::CallHandlers handlers;
    handlers.on_text = [&](std::string_view t) { streamed += t; };
    CHECK_THROWS_WITH(provider.ask("{}", handlers), Contains("out of memory"));
    CHECK(streamed == "partial ");
}

TEST_CASE("logs reach the host's callback and text streams and cancellation stops the call", "[boundary]")
{
    std::vector<std::string> lines;
    Provider provider(fixture("echo_plugin.so"), R"({"k": 1})",
                      [&](int32_t level, std::string_view line) {
                          if (level >= JV_LOG_INFO)
                              lines.emplace_back(line);
                      });
    REQUIRE(lines == std::vector<std::string>{"echo provider created"});

    std::vector<std::string> pieces;
    std::vector<std::pair<std::string, double>> progress;
    jarvis::vision::CallHandlers handlers;
    handlers.on_text = [&](std::string_view t) { pieces.emplace_back(t); };
    handlers.on_progress = [&](std::string_view stage, double f) { progress.emplace_back(stage, f); };
    const std::string request = R"({"a":1,"b":2,"c":3})";
    CHECK(provider.ask(request, handlers) == R"({"answer":"done"})");
    CHECK(pieces == std::vector<std::string>{R"({"a":1,)", R"("b":2,)", R"("c":3})"});

    CHECK(provider.plan(request, handlers) == R"({"plugin":"echo","request":{"a":1,"b":2,"c":3},"config":{"k": 1}})");
    REQUIRE(progress.size() == 1);
    CHECK(progress[0].first == "echo");

    pieces.clear();
    handlers.is_cancelled = [&] { return !pieces.empty(); };
    CHECK(status_of([&] { provider.ask(request, handlers); }) == JV_E_CANCELLED);
    CHECK(pieces.size() == 1);
}

TEST_CASE("a plugin honours the struct_size of an older, smaller host struct", "[boundary][abi]")
{
    const auto plugin = fixture("echo_plugin.so");
    const jv_plugin& table = *plugin.table();
    jv_provider* provider = nullptr;
    jv_error error{};
    error.struct_size = sizeof error;
    REQUIRE(table.create(nullptr, "{}", &provider, &error) == JV_OK); // a host with no jv_host at all

    struct Seen
    {
        int results = 0;
        int texts = 0;
    } seen;
    jv_callbacks callbacks{};
    callbacks.user_data = &seen;
    callbacks.on_result = [](void* s, const char*, size_t) { ++static_cast<Seen*>(s)->results; };
    callbacks.on_text = [](void* s, const char*, size_t) { ++static_cast<Seen*>(s)->texts; };
    // An older host whose jv_callbacks ended after on_result: the plugin must not read on_text.
    callbacks.struct_size = offsetof(jv_callbacks, on_text);
    REQUIRE(table.ask(provider, R"({"a":1,"b":2})", &callbacks, &error) == JV_OK);
    CHECK(seen.results == 1);
    CHECK(seen.texts == 0);

    // An error struct that ends before `message`: the code is written, the message is not.
    struct OldError
    {
        uint32_t struct_size;
        jv_status code;
        int32_t http_status;
        uint32_t message_length;
        char canary[16];
    } old{};
    old.struct_size = offsetof(jv_error, message);
    std::strcpy(old.canary, "untouched");
    const auto throwing = fixture("throwing.so");
    jv_provider* thrower = nullptr;
    REQUIRE(throwing.table()->create(nullptr, "{}", &thrower, &error) == JV_OK);
    CHECK(throwing.table()->plan(thrower, "{}", nullptr, reinterpret_cast<jv_error*>(&old)) == JV_E_INTERNAL);
    CHECK(old.code == JV_E_INTERNAL);
    CHECK(old.message_length > 0);
    CHECK(std::string(old.canary) == "untouched");
    throwing.table()->destroy(thrower);
    table.destroy(provider);
}
