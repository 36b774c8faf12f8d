#include "core/store/run_writer.h"
#include "store_test_util.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace mq {
namespace {

using test::sampleHeader;
using test::TempDir;

// Researchers read run files with the standard HDF5 tools; h5dump is in Debian's hdf5-tools.
TEST(RunFileTools, H5dumpShowsDataAndUnits)
{
    ASSERT_EQ(std::system("command -v h5dump >/dev/null 2>&1"), 0) << "install hdf5-tools for h5dump";
    TempDir dir;
    const std::string path = dir.file("run.h5");
    {
        RunWriter writer = RunWriter::create(path, sampleHeader());
        writer.appendStep(0, 0.75, 1.5, { { "let", 1e-3 }, { "lwc", 1e-3 }, { "lrl", 1e-4 } });
        writer.appendRanges(0, { -1, -2, -3 }, { 1, 2, 3 });
        writer.writeEval("wikitext2", R"({"perplexity": 12.5})");
    }
    const std::string out = dir.file("dump.txt");
    ASSERT_EQ(std::system(("h5dump \"" + path + "\" > \"" + out + "\" 2>&1").c_str()), 0);
    ASSERT_EQ(
        std::system(
            ("h5dump -d /train/loss -a /eval/wikitext2/perplexity \"" + path + "\" >> \"" + out + "\" 2>&1").c_str()),
        0);
    std::stringstream text;
    text << std::ifstream(out).rdbuf();
    const std::string dump = text.str();
    for (const char *expected : { "\"mq-run\"", "schema_version", "\"mse\"", "\"s\"", "layers.0.mlp.down.in", "0.75",
             "perplexity", "12.5", "sha256:0123abcd" })
        EXPECT_NE(dump.find(expected), std::string::npos) << expected << " not in:\n" << dump;
}

} // namespace
} // namespace mq
