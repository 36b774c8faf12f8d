#pragma once

#include "../common/temp_dir.h"
#include "../model/test_support.h"

#include "plugins/api/plugin_manager.h"

#include <QDeadlineTimer>
#include <QTest>

#include <filesystem>
#include <fstream>
#include <string>

namespace mq::test {

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
