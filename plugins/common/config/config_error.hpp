#pragma once

#include <stdexcept>

namespace jarvis {

// A configuration, loadout or request that cannot be used. Hosts exit with code 2 on it; plugins report
// JV_E_INVALID_ARGUMENT. The message names the file, key or value and what is wrong with it.
class ConfigError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

} // namespace jarvis
