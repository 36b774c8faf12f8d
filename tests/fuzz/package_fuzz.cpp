// libFuzzer target: the package reader must reject any byte string with a PackageError, never
// crash, hang or read out of bounds (run under AddressSanitizer + UBSan; see README.md here).
#include "core/runtime/package.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try {
        const mq::Package p = mq::Package::fromBytes(data, size, "fuzz input");
        // A package that passed validation must be fully readable.
        for (const std::string &name : p.names()) {
            const auto t = p.tensor(name);
            volatile uint8_t sink = 0;
            for (size_t i = 0; i < t.size; i += 4096)
                sink = sink ^ t.data[i];
            (void)sink;
        }
    } catch (const mq::PackageError &) {
    }
    return 0;
}
