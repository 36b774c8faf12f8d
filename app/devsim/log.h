#pragma once

#include <string>

// Log lines on stderr, one writer at a time. Problems are always logged; details only with --verbose.

namespace mq::devsim {

void setVerbose(bool verbose);
bool verbose();
void logLine(const std::string &line); // always
void logVerbose(const std::string &line); // with --verbose

} // namespace mq::devsim
