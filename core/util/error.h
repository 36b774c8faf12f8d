#pragma once

#include <stdexcept>
#include <string>

namespace mq {

// The one exception type the project throws for bad input. Its message is meant for a person:
// it names the file (and the tensor, site or key) and says what to do about it.
class Error : public std::runtime_error
{
public:
    explicit Error(const std::string &message);
};

// Builds "<path>: <what>" so every message about a file starts with the file.
[[noreturn]] void failFile(const std::string &path, const std::string &what);

} // namespace mq
