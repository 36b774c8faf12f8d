#pragma once

namespace mq {

// Makes sure OpenMP (LibTorch's and OpenBLAS's thread pools, both libgomp) waits passively.
// Measured here: with libgomp's default spinning, two threads on this 2-vCPU machine ran the
// stories260K forward 16× slower than one thread (497 vs 8,455 tokens/s); with
// OMP_WAIT_POLICY=passive two threads reach 9,257 tokens/s. libgomp reads the variable when it
// is loaded, before main(), so when it is unset this sets it and re-executes the program (same
// argv). Call first thing in main(); it returns normally if the variable is already set or the
// re-exec fails. The user's own OMP_WAIT_POLICY is respected.
void ensurePassiveOpenMpWait(char **argv);

} // namespace mq
