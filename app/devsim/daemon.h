#pragma once

#include "options.h"

// The whole mq-devsim process: sandbox, battery thread, listener, one thread per connection.
// Returns the process exit code; SIGTERM/SIGINT end it cleanly (connections closed, processes
// of the phone hung up, battery thread joined).

namespace mq::devsim {

int runDaemon(const Options &options);

} // namespace mq::devsim
