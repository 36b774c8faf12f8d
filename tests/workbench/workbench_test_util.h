#pragma once

#include "../common/temp_dir.h"
#include "../model/test_support.h"

#include "plugins/api/plugin_manager.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QDir>
#include <QTest>

#include <filesystem>
#include <fstream>
#include <string>

namespace mq::test {

// This test process's own QSettings folder (main.cpp points QSettings there and removes it at the
// end): ctest runs every test as its own process, in parallel, and tests that save settings (the
// window does on close, on opening models and runs) must not overwrite each other's file.
inline QString testSettingsFolder()
{
    return QDir::temp().filePath(
        QStringLiteral("mq-workbench-test-settings-%1").arg(QCoreApplication::applicationPid()));
}

// The method plugins as the build puts them (<build>/bin/plugins), scanned once per process.
inline PluginManager &builtPlugins()
{
    static PluginManager *plugins = [] {
        auto *p = new PluginManager(QStringList { QStringLiteral(MQ_METHOD_PLUGIN_DIR) });
        p->scan();
        return p;
    }();
    return *plugins;
}

inline std::filesystem::path stories260K()
{
    return sharedDir() / "models" / "stories260K" / "stories260K.bin";
}

// The first `lines` stories of the TinyStories sample as a calibration text in `dir`.
inline std::filesystem::path calibrationText(const std::filesystem::path &dir, int lines = 6)
{
    std::ifstream in(sharedDir() / "data" / "tinystories" / "TinyStories-valid.sample30K.txt");
    const std::filesystem::path path = dir / "calib.txt";
    std::ofstream out(path);
    std::string line;
    for (int i = 0; i < lines && std::getline(in, line); ++i)
        out << line << "\n";
    return path;
}

// Runs the event loop until `pred()` holds or `timeoutMs` passed; returns pred(). (QTRY_* report
// to QTest's logger, which GoogleTest does not see; ASSERT_TRUE(waitUntil(...)) fails the test.)
template <typename Pred> bool waitUntil(Pred pred, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!pred()) {
        if (deadline.hasExpired())
            return false;
        QTest::qWait(5);
    }
    return true;
}

} // namespace mq::test
