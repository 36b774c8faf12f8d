#pragma once

// Runs the real `mq` executable (MQ_CLI, set by CMake) through a shell and captures what it prints.

#include "tests/common/run_program.h"

#include <string>

namespace mq::test {

using MqRun = ProgramRun;

// `args` is shell text appended to the executable's path.
inline MqRun runMq(const std::string &args)
{
    return runProgram(std::string(MQ_CLI) + " " + args);
}

} // namespace mq::test
