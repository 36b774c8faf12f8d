#include "daemon.h"
#include "options.h"

#include "core/util/error.h"

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

int main(int argc, char **argv)
{
    try {
        const mq::devsim::Options options = mq::devsim::parseOptions(std::vector<std::string>(argv + 1, argv + argc));
        if (options.help) {
            std::fputs(mq::devsim::usageText().c_str(), stdout);
            return 0;
        }
        if (options.version) {
            std::printf(
                "mq-devsim %s (a simulated Android phone for adb; protocol version 0x01000001)\n", MQ_DEVSIM_VERSION);
            return 0;
        }
        return mq::devsim::runDaemon(options);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "mq-devsim: %s\n", e.what());
        return 2;
    }
}
