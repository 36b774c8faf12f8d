#include "widgets/devices/benchmark_worker.h"

#include "core/device/bench_protocol.h"
#include "core/device/process.h"
#include "core/store/device_results.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

#include <algorithm>

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

void BenchmarkWorker::disconnectAddress(const QString &address)
{
    try {
        m_backend->disconnect(address.toStdString());
    } catch (const std::exception &) {
        // Leaving: a phone that cannot be forgotten is only listed as offline until adb restarts.
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

namespace {

// The prompt lengths to run: each clamped so that prompt + decode fit the smallest context of the
// packages (mq-run refuses more), duplicates left out; what changed is said in `notes`.
QList<int> fitPromptLengths(QList<int> lengths, int &decode, int context, QStringList &notes)
{
    QList<int> out;
    if (context > 0 && decode >= context) {
        const int fitted = context / 2;
        notes << QObject::tr("decode %1 tokens does not fit the model's context of %2 positions: decoding %3")
                     .arg(decode)
                     .arg(context)
                     .arg(fitted);
        decode = fitted;
    }
    for (int n : lengths) {
        int fitted = n;
        if (context > 0 && n + decode > context) {
            fitted = std::max(1, context - decode);
            notes << QObject::tr("prompt %1 tokens + decode %2 exceed the model's context of %3 positions: "
                                 "prompt clamped to %4 tokens")
                         .arg(n)
                         .arg(decode)
                         .arg(context)
                         .arg(fitted);
        }
        if (out.contains(fitted)) {
            notes << QObject::tr("prompt %1 tokens is already measured: not repeated").arg(fitted);
            continue;
        }
        out << fitted;
    }
    return out;
}

} // namespace

void BenchmarkWorker::runBenchmark(const BenchmarkRequest &request)
{
    m_cancel = false;
    int stored = 0;
    try {
        QStringList packages = exportMissing(request);
        packages << request.packages;
        if (m_cancel) {
            Q_EMIT failed(tr("cancelled"));
            Q_EMIT runEnded(stored);
            return;
        }
        if (packages.isEmpty()) {
            Q_EMIT failed(tr("nothing to benchmark: choose a calibration run to export from, or packages"));
            Q_EMIT runEnded(stored);
            return;
        }
        std::vector<std::string> paths;
        int context = 0;
        for (const QString &p : packages) {
            paths.push_back(p.toStdString());
            const int c = device::packageContext(p.toStdString());
            if (c > 0)
                context = context > 0 ? std::min(context, c) : c;
        }
        device::BenchOptions options = request.options;
        QStringList notes;
        const QList<int> lengths = fitPromptLengths(
            request.promptLengths.isEmpty() ? QList<int> { options.promptTokens } : request.promptLengths,
            options.decodeTokens, context, notes);
        for (const QString &n : notes) {
            Q_EMIT note(n);
            Q_EMIT warning(n);
        }
        device::DeviceEvents events;
        events.stage = [this](const std::string &s) { Q_EMIT stage(QString::fromStdString(s)); };
        events.warning = [this](const std::string &s) { Q_EMIT warning(QString::fromStdString(s)); };
        events.push = [this](const std::string &file, int percent, std::uint64_t) {
            Q_EMIT pushProgress(QString::fromStdString(file), percent);
        };
        QString out = request.resultsFile.isEmpty() ? request.calibrationRun : request.resultsFile;
        if (out.isEmpty())
            out = QFileInfo(packages.front()).dir().filePath(QStringLiteral("device-benchmarks.h5"));
        for (int i = 0; i < lengths.size() && !m_cancel; ++i) {
            options.promptTokens = lengths[i];
            if (lengths.size() > 1)
                Q_EMIT stage(tr("prompt %1 tokens (%2 of %3)").arg(lengths[i]).arg(i + 1).arg(lengths.size()));
            device::BenchmarkReport report
                = m_backend->benchmark(request.serial.toStdString(), paths, options, events, &m_cancel);
            for (const QString &n : notes) // stored with the results, so the file says what was clamped
                report.warnings.push_back(n.toStdString());
            std::string id;
            try {
                id = writeDeviceBenchmark(out.toStdString(), report);
            } catch (const std::exception &e) {
                // The calibration run may be open elsewhere (the window shows it; a calibration
                // still writes it): keep the results beside it rather than lose them.
                if (!request.resultsFile.isEmpty() || out != request.calibrationRun)
                    throw;
                const QFileInfo run(request.calibrationRun);
                const QString beside
                    = run.dir().filePath(run.completeBaseName() + QStringLiteral("-device-benchmarks.h5"));
                Q_EMIT warning(tr("could not store the results in %1 (%2); stored them in %3 instead")
                                   .arg(run.fileName(), QString::fromStdString(e.what()), beside));
                out = beside;
                id = writeDeviceBenchmark(out.toStdString(), report);
            }
            ++stored;
            Q_EMIT finished(report, out, QString::fromStdString(id));
            if (!report.error.empty())
                break;
        }
    } catch (const std::exception &e) {
        Q_EMIT failed(QString::fromStdString(e.what()));
    }
    Q_EMIT runEnded(stored);
}

} // namespace mq
