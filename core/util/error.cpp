#include "core/util/error.h"

namespace mq {

Error::Error(const std::string &message)
    : std::runtime_error(message)
{
}

void failFile(const std::string &path, const std::string &what)
{
    throw Error(path + ": " + what);
}

} // namespace mq
