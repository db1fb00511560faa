#include "config/config_error.hpp"
#include "config/provider_config.hpp"

#include <catch2/catch.hpp>

using Catch::Matchers::Contains;
using jarvis::parse_provider_config;

TEST_CASE("the configuration document is read with defaults for what it leaves out", "[config]")
{
    const auto empty = parse_provider_config(std::string("{}"), "cfg.json");
    CHECK(empty.endpoint.base_url == "http://127.0.0.1:8000/v1");
    CHECK_FALSE(empty.input_data.configured());
    CHECK(empty.http_delivery.bind == "127.0.0.1");

    const auto full = parse_provider_config(std::string(R"({
        "endpoint": {"base_url": "https://gpu-box:8300/v1", "timeout_s": 60, "connect_timeout_s": 2.5,
                     "api_key_env": "VLLM_KEY"},
        "loadout": "vllm://m#nativevideo",
        "input_data": {"host_path": "C:\\Users\\me\\jarvis\\input_data", "container_path": "/data"},
        "http_delivery": {"advertise": "host.docker.internal", "bind": "0.0.0.0"}})"),
                                            "cfg.json");
    CHECK(full.endpoint.base_url == "https://gpu-box:8300/v1");
    CHECK(full.endpoint.timeout_s == 60);
    CHECK(full.endpoint.connect_timeout_s == 2.5);
    CHECK(full.endpoint.api_key_env == "VLLM_KEY");
    CHECK(full.input_data.configured());
    CHECK(full.input_data.container_path == "/data");
    CHECK(full.http_delivery.advertise == "host.docker.internal");
}

TEST_CASE("configuration errors name the origin and the key", "[config][errors]")
{
    CHECK_THROWS_WITH(parse_provider_config(std::string("{not json"), "my.json"), Contains("my.json: not valid JSON"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"endpoint": {"timeout": 5}})"), "my.json"),
                      Contains("my.json: endpoint.timeout: unknown key"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"endpoint": {"timeout_s": "5"}})"), "my.json"),
                      Contains("endpoint.timeout_s: must be a number"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"endpoint": {"timeout_s": -1}})"), "my.json"),
                      Contains("out of range"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"endpoint": {"base_url": "ftp://x"}})"), "my.json"),
                      Contains("must start with http:// or https://"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"input_data": {"host_path": "/srv/in"}})"), "my.json"),
                      Contains("must be given together"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"input_data": {"host_path": "/a", "container_path": "data"}})"), "my.json"),
                      Contains("absolute path inside the container"));
    CHECK_THROWS_WITH(parse_provider_config(std::string(R"({"lodout": "vllm://m"})"), "my.json"),
                      Contains("my.json: lodout: unknown key"));
    CHECK_THROWS_WITH(parse_provider_config(std::string("[1, 2]"), "my.json"), Contains("must be a JSON object"));
}
