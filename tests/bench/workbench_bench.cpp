// Responsiveness of the workbench window (issue 4): how late a 10 ms timer fires on the GUI thread
// (a) with the window idle, (b) while a MobileQuant calibration runs at full speed in the window
// with the widest site's histogram refreshed at every snapshot, and (c) while the inspector is
// fed a fresh histogram of that site at 30 Hz; and the time to build and draw a 1M-sample
// histogram. Prints JSON. Run offscreen: QT_QPA_PLATFORM=offscreen OMP_WAIT_POLICY=passive.
//
//   mq_workbench_bench [--seconds S]
#include "app/workbench/calibration_panel.h"
#include "app/workbench/main_window.h"
#include "app/workbench/method_form.h"
#include "app/workbench/run_display.h"
#include "core/util/process_env.h"
#include "plugins/api/plugin_manager.h"
#include "widgets/outlier_inspector.h"
#include "widgets/qcustomplot_include.h"

#include <QApplication>
#include <QDeadlineTimer>
#include <QDir>
#include <QElapsedTimer>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace mq;

namespace {

// Lateness of a 10 ms precise timer: how much later than 10 ms after the previous tick each tick
// comes. Everything the GUI thread does (batches, replots, layout) shows up here.
class LatencyProbe
{
public:
    LatencyProbe()
    {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(10);
        QObject::connect(&m_timer, &QTimer::timeout, [this] {
            const qint64 now = m_clock.nsecsElapsed();
            if (m_last >= 0)
                m_late.push_back(std::max(0.0, double(now - m_last) / 1e6 - 10.0));
            m_last = now;
        });
    }
    void start()
    {
        m_late.clear();
        m_last = -1;
        m_clock.start();
        m_timer.start();
    }
    nlohmann::json stop()
    {
        m_timer.stop();
        std::vector<double> v = m_late;
        std::sort(v.begin(), v.end());
        auto pct
            = [&](double p) { return v.empty() ? 0.0 : v[std::min(v.size() - 1, std::size_t(p * double(v.size())))]; };
        return { { "ticks", v.size() }, { "p50_ms", pct(0.50) }, { "p99_ms", pct(0.99) },
            { "max_ms", v.empty() ? 0.0 : v.back() } };
    }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_last = -1;
    std::vector<double> m_late;
};

std::string sharedDir()
{
    const QByteArray env = qgetenv("MQ_SHARED_DIR");
    return env.isEmpty() ? std::string(MQ_SHARED_DIR_DEFAULT) : env.toStdString();
}

// A heavy-tailed activation sample like a down-projection input: mostly small, a few channels huge.
std::vector<float> activationSample(std::size_t n, unsigned seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 0.5f);
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i)
        x[i] = (i % 172 == 7) ? 40.0f * normal(rng) : normal(rng);
    return x;
}

OutlierSiteData histogramOf(const std::vector<float> &x, int bins, const std::string &site)
{
    OutlierSiteData d;
    d.site = site;
    d.step = 0;
    d.bits = 8;
    const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
    d.fmin = *lo * 0.5f;
    d.fmax = *hi * 0.5f;
    d.hasRange = true;
    d.edges.resize(std::size_t(bins) + 1);
    for (int i = 0; i <= bins; ++i)
        d.edges[std::size_t(i)] = *lo + (*hi - *lo) * float(i) / float(bins);
    d.counts.assign(std::size_t(bins), 0);
    const float scale = float(bins) / (*hi - *lo);
    for (float v : x)
        ++d.counts[std::size_t(std::min(bins - 1, int((v - *lo) * scale)))];
    d.channelMaxAbs.assign(172, 0.0f);
    for (std::size_t i = 0; i < x.size(); ++i)
        d.channelMaxAbs[i % 172] = std::max(d.channelMaxAbs[i % 172], std::abs(x[i]));
    return d;
}

} // namespace

int main(int argc, char **argv)
{
    // As the window does: LibTorch's OpenMP threads must not spin on the GUI thread's core.
    mq::ensurePassiveOpenMpWait(argv);
    if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    double seconds = 15;
    for (int i = 1; i + 1 < argc; i += 2)
        if (std::string(argv[i]) == "--seconds")
            seconds = std::stod(argv[i + 1]);
    QStandardPaths::setTestModeEnabled(true);
    QApplication::setOrganizationName(QStringLiteral("mq-workbench-bench"));

    PluginManager plugins(QStringList { QStringLiteral(MQ_METHOD_PLUGIN_DIR) });
    plugins.scan();
    MainWindow w(plugins);
    w.setInteractive(false);
    w.resize(1400, 900);
    w.show();
    LatencyProbe probe;
    nlohmann::json out;
    out["qpa"] = QGuiApplication::platformName().toStdString();

    // (a) Idle.
    probe.start();
    QTest::qWait(2000);
    out["idle"] = probe.stop();

    // (b) A calibration at full speed in the window, the widest site's histogram at every snapshot.
    QTemporaryDir tmp;
    const std::string shared = sharedDir();
    const std::string model = shared + "/models/stories260K/stories260K.bin";
    {
        std::ifstream in(shared + "/data/tinystories/TinyStories-valid.sample30K.txt");
        std::ofstream calib(tmp.filePath(QStringLiteral("calib.txt")).toStdString());
        std::string line;
        for (int i = 0; i < 40 && std::getline(in, line); ++i)
            calib << line << "\n";
    }
    if (!w.openModel(QString::fromStdString(model))) {
        std::fprintf(stderr, "%s\n", qPrintable(w.lastError()));
        return 1;
    }
    const QString widest = QStringLiteral("layers.0.mlp.down.in"); // intermediate size: the widest activation
    w.selectSite(widest);
    CalibrationPanel *panel = w.calibrationPanel();
    panel->setCalibPath(tmp.filePath(QStringLiteral("calib.txt")));
    panel->setRunPath(tmp.filePath(QStringLiteral("bench.h5")));
    panel->setMethod(QStringLiteral("mobilequant"));
    panel->methodForm()->setValue(QStringLiteral("epochs"), 1000); // stopped after `seconds`
    panel->setSamples(16);
    panel->setSeqLen(128);
    panel->setSnapshotEvery(1); // a histogram refresh per step: the worst case for the GUI
    panel->setWatchSites({ widest, QStringLiteral("layers.4.mlp.down.in"), QStringLiteral("lm_head.in") });
    if (!w.startCalibration()) {
        std::fprintf(stderr, "%s\n", qPrintable(w.lastError()));
        return 1;
    }
    // Wait for the model to load and the first steps to come, then measure.
    QDeadlineTimer ready(120000);
    while (w.display()->lastStep() < 3 && !ready.hasExpired() && w.runner()->busy())
        QTest::qWait(20);
    const std::int64_t stepsBefore = w.display()->lastStep();
    const std::int64_t batchesBefore = w.runner()->bridge()->batchesDelivered();
    const std::int64_t snapshotsBefore = w.display()->snapshotsShown();
    const double applyBefore = w.display()->applyMsTotal();
    const std::int64_t appliedBefore = w.display()->batchesApplied();
    probe.start();
    QElapsedTimer runClock;
    runClock.start();
    QTest::qWait(int(seconds * 1000));
    nlohmann::json calib = probe.stop();
    const double runSeconds = double(runClock.elapsed()) / 1000.0;
    calib["steps_per_s"] = double(w.display()->lastStep() - stepsBefore) / runSeconds;
    calib["snapshots_per_s"] = double(w.display()->snapshotsShown() - snapshotsBefore) / runSeconds;
    calib["batches_per_s"] = double(w.runner()->bridge()->batchesDelivered() - batchesBefore) / runSeconds;
    calib["apply_batch_ms_mean"] = (w.display()->applyMsTotal() - applyBefore)
        / double(std::max<std::int64_t>(1, w.display()->batchesApplied() - appliedBefore));
    calib["apply_batch_ms_max"] = w.display()->applyMsMax();
    calib["inspector_site"] = w.inspector()->data().site;
    calib["histogram_bins"] = w.inspector()->data().counts.size();
    out["during_calibration"] = calib;
    w.stopCalibration();
    QDeadlineTimer stopped(60000);
    while (w.runner()->busy() && !stopped.hasExpired())
        QTest::qWait(20);

    // (c) The inspector fed a fresh 1M-sample histogram of the widest site at 30 Hz.
    const std::vector<float> sample = activationSample(1000000, 1);
    std::vector<OutlierSiteData> frames;
    for (unsigned k = 0; k < 4; ++k)
        frames.push_back(histogramOf(activationSample(1000000, 10 + k), 2048, widest.toStdString()));
    std::size_t frame = 0;
    QTimer feeder;
    feeder.setInterval(33);
    QObject::connect(&feeder, &QTimer::timeout, [&] { w.inspector()->setData(frames[frame++ % frames.size()]); });
    probe.start();
    feeder.start();
    QTest::qWait(5000);
    feeder.stop();
    nlohmann::json refresh = probe.stop();
    refresh["refreshes"] = frame;
    refresh["bins"] = 2048;
    out["histogram_refresh_30hz"] = refresh;

    // (d) One 1M-sample histogram: build (binning) and draw (setData + synchronous replot).
    std::vector<double> buildMs, drawMs;
    for (int rep = 0; rep < 5; ++rep) {
        QElapsedTimer t;
        t.start();
        const OutlierSiteData d = histogramOf(sample, 2048, widest.toStdString());
        buildMs.push_back(double(t.nsecsElapsed()) / 1e6);
        t.restart();
        w.inspector()->setData(d);
        w.inspector()->histogramPlot()->replot(QCustomPlot::rpImmediateRefresh);
        w.inspector()->channelPlot()->replot(QCustomPlot::rpImmediateRefresh);
        QCoreApplication::processEvents();
        drawMs.push_back(double(t.nsecsElapsed()) / 1e6);
    }
    std::sort(buildMs.begin(), buildMs.end());
    std::sort(drawMs.begin(), drawMs.end());
    out["histogram_1M_samples"] = { { "bins", 2048 }, { "build_ms_median", buildMs[2] },
        { "draw_ms_median", drawMs[2] }, { "build_plus_draw_ms_median", buildMs[2] + drawMs[2] } };
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
}
