// Writes a small valid package (every dtype) as the fuzzer's seed corpus entry.
#include "core/runtime/package.h"

#include <cstdio>
#include <vector>

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_package_seed OUT.mqpkg\n");
        return 2;
    }
    mq::PackageWriter w;
    w.setMetadata(R"({"architecture":"llama","note":"fuzz seed"})");
    w.addTensor("u8", mq::PackageDType::U8, {2, 3}, std::vector<uint8_t>{1, 2, 3, 4, 5, 6});
    w.addTensor("s8", mq::PackageDType::S8, {4}, std::vector<uint8_t>{0x80, 0xff, 0, 0x7f});
    w.addTensor("s4", mq::PackageDType::S4Packed, {2, 3}, std::vector<uint8_t>{0x21, 0x03, 0x87, 0x0f});
    w.addTensor("s16", mq::PackageDType::S16, {2}, std::vector<uint8_t>{1, 0, 0xff, 0x7f});
    w.addTensor("s32", mq::PackageDType::S32, {1}, std::vector<uint8_t>{1, 2, 3, 4});
    w.addTensor("f32", mq::PackageDType::F32, {}, std::vector<uint8_t>{0, 0, 0x80, 0x3f});
    w.write(argv[1]);
    return 0;
}
