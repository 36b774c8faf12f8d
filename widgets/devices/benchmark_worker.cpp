#include "widgets/devices/benchmark_worker.h"

#include "core/device/process.h"
#include "core/store/device_results.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace mq {

BenchmarkWorker::BenchmarkWorker(std::unique_ptr<DeviceBackend> backend, QObject *parent)
    : QObject(parent)
    , m_backend(std::move(backend))
{
    qRegisterMetaType<mq::BenchmarkRequest>();
    qRegisterMetaType<mq::device::BenchmarkReport>();
    qRegisterMetaType<std::vector<mq::DeviceInfo>>();
}

BenchmarkWorker::~BenchmarkWorker() = default;

void BenchmarkWorker::refreshDevices()
{
    try {
        Q_EMIT devicesListed(m_backend->listDevices());
    } catch (const std::exception &e) {
        Q_EMIT failed(QString::fromStdString(e.what()));
    }
}

void BenchmarkWorker::connectAddress(const QString &address)
{
    try {
        m_backend->connect(address.toStdString());
        Q_EMIT devicesListed(m_backend->listDevices());
    } catch (const std::exception &e) {
        Q_EMIT failed(QString::fromStdString(e.what()));
    }
}

QStringList BenchmarkWorker::exportMissing(const BenchmarkRequest &request)
{
    QStringList packages;
    if (request.calibrationRun.isEmpty())
        return packages;
    const QFileInfo run(request.calibrationRun);
    const QString cli
        = m_cli.isEmpty() ? QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("mq")) : m_cli;
    for (const QString &variant : request.variants) {
        // <run stem>-<variant>.mqpkg beside the run file, reused while it is newer than the run.
        const QString pkg
            = run.dir().filePath(run.completeBaseName() + QLatin1Char('-') + variant + QStringLiteral(".mqpkg"));
        const QFileInfo info(pkg);
        if (info.exists() && info.lastModified() >= run.lastModified()) {
            Q_EMIT stage(tr("%1 is already exported").arg(info.fileName()));
            packages << pkg;
            continue;
        }
        Q_EMIT stage(tr("exporting %1 from %2").arg(variant, run.fileName()));
        device::ProcessOptions o;
        o.cancel = &m_cancel;
        const device::ProcessResult r
            = device::runProcess({ cli.toStdString(), "export", run.filePath().toStdString(), "--out",
                                     pkg.toStdString(), "--variant", variant.toStdString() },
                o);
        if (m_cancel)
            return packages;
        if (r.exitCode != 0) {
            // A run calibrated for W4 cannot give W8A8 (and the other way round): skip, say why.
            Q_EMIT warning(tr("%1 not exported: %2").arg(variant, QString::fromStdString(r.err).trimmed()));
            continue;
        }
        packages << pkg;
    }
    return packages;
}

void BenchmarkWorker::runBenchmark(const BenchmarkRequest &request)
{
    m_cancel = false;
    try {
        QStringList packages = exportMissing(request);
        packages << request.packages;
        if (m_cancel) {
            Q_EMIT failed(tr("cancelled"));
            return;
        }
        if (packages.isEmpty()) {
            Q_EMIT failed(tr("nothing to benchmark: choose a calibration run to export from, or packages"));
            return;
        }
        std::vector<std::string> paths;
        for (const QString &p : packages)
            paths.push_back(p.toStdString());
        device::DeviceEvents events;
        events.stage = [this](const std::string &s) { Q_EMIT stage(QString::fromStdString(s)); };
        events.warning = [this](const std::string &s) { Q_EMIT warning(QString::fromStdString(s)); };
        events.push = [this](const std::string &file, int percent, std::uint64_t) {
            Q_EMIT pushProgress(QString::fromStdString(file), percent);
        };
        const device::BenchmarkReport report
            = m_backend->benchmark(request.serial.toStdString(), paths, request.options, events, &m_cancel);
        QString out = request.resultsFile.isEmpty() ? request.calibrationRun : request.resultsFile;
        if (out.isEmpty())
            out = QFileInfo(packages.front()).dir().filePath(QStringLiteral("device-benchmarks.h5"));
        const std::string id = writeDeviceBenchmark(out.toStdString(), report);
        Q_EMIT finished(report, out, QString::fromStdString(id));
    } catch (const std::exception &e) {
        Q_EMIT failed(QString::fromStdString(e.what()));
    }
}

} // namespace mq
