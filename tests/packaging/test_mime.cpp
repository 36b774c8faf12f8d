// The shared-mime-info file (packaging/linux/org.mqworkbench.MQWorkbench.mime.xml) as a desktop
// reads it: Qt's MIME database, pointed at a scratch XDG data folder that holds only our file (next
// to the system's), names run files and packages by their file names and packages by their magic.

#include "tests/common/temp_dir.h"

#include <QMimeDatabase>
#include <QMimeType>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;

TEST(MimeTypes, RunFilesAndPackagesAreRecognised)
{
    mq::test::TempDir dir;
    fs::create_directories(dir.file("share/mime/packages"));
    fs::copy_file(MQ_MIME_XML, dir.file("share/mime/packages/org.mqworkbench.MQWorkbench.xml"));
    // Read before the first QMimeDatabase of this process (each test runs in its own).
    ::setenv("XDG_DATA_DIRS", (dir.file("share") + ":/usr/local/share:/usr/share").c_str(), 1);
    ::setenv("XDG_DATA_HOME", dir.file("nothing").c_str(), 1);

    const QMimeDatabase db;
    const QMimeType run = db.mimeTypeForName(QStringLiteral("application/x-mq-run"));
    ASSERT_TRUE(run.isValid()) << "the MIME file was not read";
    EXPECT_TRUE(run.inherits(QStringLiteral("application/x-hdf"))); // shared-mime-info's HDF type
    EXPECT_EQ(db.mimeTypeForFile(QStringLiteral("a.mqrun"), QMimeDatabase::MatchExtension).name().toStdString(),
        "application/x-mq-run");
    EXPECT_EQ(db.mimeTypeForFile(QStringLiteral("a.mqrun.h5"), QMimeDatabase::MatchExtension).name().toStdString(),
        "application/x-mq-run");
    EXPECT_EQ(db.mimeTypeForFile(QStringLiteral("a.mqpkg"), QMimeDatabase::MatchExtension).name().toStdString(),
        "application/x-mq-package");

    // A package renamed without its extension is still found by its magic.
    const std::string renamed = dir.file("model-copy");
    std::ofstream(renamed, std::ios::binary) << std::string("MQPKG\0\0\0", 8) << std::string(64, '\x01');
    EXPECT_EQ(db.mimeTypeForFile(QString::fromStdString(renamed), QMimeDatabase::MatchContent).name().toStdString(),
        "application/x-mq-package");
    // ... and an ordinary HDF5 file stays HDF5: *.mqrun.h5, not *.h5, marks a run file.
    EXPECT_EQ(db.mimeTypeForFile(QStringLiteral("a.h5"), QMimeDatabase::MatchExtension).name().toStdString(),
        "application/x-hdf");
}

} // namespace
