#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace jarvis::emulator {

// An error the emulated vLLM server answers with: its HTTP status, vLLM's exception type name, message and param,
// sent in vLLM's current nested body {"error": {"message", "type", "param", "code"}} (reference §5).
class ApiError : public std::runtime_error
{
public:
    ApiError(int status, std::string type, const std::string& message, nlohmann::json param = nullptr)
        : std::runtime_error(message), status_(status), type_(std::move(type)), param_(std::move(param))
    {
    }
    int status() const { return status_; }
    nlohmann::json body() const
    {
        return {{"error", {{"message", what()}, {"type", type_}, {"param", param_}, {"code", status_}}}};
    }

    static ApiError bad_request(const std::string& message, nlohmann::json param = nullptr)
    {
        return ApiError(400, "BadRequestError", message, std::move(param));
    }

private:
    int status_;
    std::string type_;
    nlohmann::json param_;
};

} // namespace jarvis::emulator
