#include "core/util/process_env.h"

#include <cstdlib>
#include <unistd.h>

namespace mq {

void ensurePassiveOpenMpWait(char **argv)
{
    if (std::getenv("OMP_WAIT_POLICY") != nullptr)
        return;
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);
    // execv only returns on failure: carry on with the environment as it is.
}

} // namespace mq
