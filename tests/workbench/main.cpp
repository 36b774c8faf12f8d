#include "workbench_test_util.h"

#include <QApplication>
#include <QDir>
#include <QSettings>
#include <QStandardPaths>

#include <gtest/gtest.h>

int main(int argc, char **argv)
{
    // ctest sets QT_QPA_PLATFORM=offscreen; test discovery and hand runs may not.
    if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    // Standard paths go to Qt's test folder (~/.qttest), never the user's own; QSettings to a
    // folder of this process alone (tests run in parallel processes).
    QStandardPaths::setTestModeEnabled(true);
    QApplication::setOrganizationName(QStringLiteral("mq-workbench-tests"));
    QApplication::setApplicationName(QStringLiteral("workbench_tests"));
    const QString settings = mq::test::testSettingsFolder();
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settings);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settings);
    ::testing::InitGoogleTest(&argc, argv);
    const int failed = RUN_ALL_TESTS();
    QDir(settings).removeRecursively();
    return failed;
}
