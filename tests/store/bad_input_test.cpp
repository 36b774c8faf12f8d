#include "core/store/run_reader.h"
#include "core/store/run_writer.h"
#include "core/util/error.h"
#include "store_test_util.h"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <filesystem>
#include <fstream>

namespace mq {
namespace {

using test::sampleHeader;
using test::TempDir;

// The error of opening `path`, which must name the file and contain `expected`.
void expectOpenError(const std::string &path, const std::string &expected)
{
    try {
        RunReader::open(path);
        FAIL() << "expected mq::Error for " << path;
    } catch (const Error &e) {
        const std::string message = e.what();
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_NE(message.find(expected), std::string::npos) << message;
    }
}

// An HDF5 file written directly, as another tool would, with the given root attributes.
void writeForeignFile(const std::string &path, const char *schema, std::int64_t version)
{
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    const hid_t group = H5Gcreate2(file, "weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(group);
    if (schema) {
        const hid_t space = H5Screate(H5S_SCALAR);
        const hid_t type = H5Tcopy(H5T_C_S1);
        H5Tset_size(type, H5T_VARIABLE);
        hid_t attr = H5Acreate2(file, "schema", type, space, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(attr, type, &schema);
        H5Aclose(attr);
        attr = H5Acreate2(file, "schema_version", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(attr, H5T_NATIVE_INT64, &version);
        H5Aclose(attr);
        H5Tclose(type);
        H5Sclose(space);
    }
    H5Fclose(file);
}

TEST(RunFileBadInput, MissingFile)
{
    TempDir dir;
    expectOpenError(dir.file("absent.h5"), "no such run file");
}

TEST(RunFileBadInput, TextFile)
{
    TempDir dir;
    const std::string path = dir.file("notes.h5");
    std::ofstream(path) << "loss went down\n";
    expectOpenError(path, "not an HDF5 file");
    EXPECT_THROW(RunWriter::openForResume(path), Error);
}

TEST(RunFileBadInput, HdfFileThatIsNotARun)
{
    TempDir dir;
    const std::string path = dir.file("weights.h5");
    writeForeignFile(path, nullptr, 0);
    expectOpenError(path, "not an MQ Workbench run file");
    writeForeignFile(path, "something-else", 1);
    expectOpenError(path, "not an MQ Workbench run file");
}

TEST(RunFileBadInput, NewerSchemaVersion)
{
    TempDir dir;
    const std::string path = dir.file("future.h5");
    writeForeignFile(path, "mq-run", 2);
    expectOpenError(path, "newer MQ Workbench (run-file schema_version 2");
    EXPECT_THROW(RunWriter::openForResume(path), Error);
}

TEST(RunFileBadInput, RunFileMissingAGroup)
{
    TempDir dir;
    const std::string path = dir.file("partial.h5");
    writeForeignFile(path, "mq-run", 1);
    expectOpenError(path, "missing group config");
}

TEST(RunFileBadInput, TruncatedFile)
{
    TempDir dir;
    const std::string path = dir.file("cut.h5");
    {
        RunWriter writer = RunWriter::create(path, sampleHeader());
        for (std::int64_t step = 0; step < 5000; ++step)
            writer.appendStep(step, 1.0, 0.0, { { "let", 0 }, { "lwc", 0 }, { "lrl", 0 } });
    }
    std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
    expectOpenError(path, "truncated");
}

TEST(RunFileBadInput, InvalidHeader)
{
    TempDir dir;
    RunHeader header = sampleHeader();
    header.sites.push_back(header.sites.front());
    EXPECT_THROW(RunWriter::create(dir.file("a.h5"), header), Error);
    header = sampleHeader();
    header.configJson = "{not json";
    EXPECT_THROW(RunWriter::create(dir.file("b.h5"), header), Error);
    header = sampleHeader();
    header.vectorGroups[0].series[0].name = "a/b";
    EXPECT_THROW(RunWriter::create(dir.file("c.h5"), header), Error);
    header = sampleHeader();
    header.vectorGroups[0].name = "train";
    EXPECT_THROW(RunWriter::create(dir.file("d.h5"), header), Error);
    EXPECT_FALSE(std::filesystem::exists(dir.file("a.h5")));
}

} // namespace
} // namespace mq
