#include <QApplication>

#include <gtest/gtest.h>

int main(int argc, char **argv)
{
    // ctest sets QT_QPA_PLATFORM=offscreen; test discovery and hand runs may not.
    if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
