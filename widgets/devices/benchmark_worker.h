#pragma once

#include "widgets/devices/device_types.h"

#include <QObject>

#include <atomic>
#include <memory>

namespace mq {

// Runs the blocking device work (adb, export, deploy, benchmark) on the thread it lives on: move
// it to a QThread and call its slots through queued connections. Results come back as signals
// carrying values. cancel() may be called from any thread: it stops the push or the benchmark
// (killing mq-run on the phone) and the run ends with the finished variants.
class BenchmarkWorker : public QObject
{
    Q_OBJECT

public:
    // Takes the back-end (from the "android-adb" plugin, or made directly).
    explicit BenchmarkWorker(std::unique_ptr<DeviceBackend> backend, QObject *parent = nullptr);
    ~BenchmarkWorker() override;

    void cancel() { m_cancel = true; }

    // `mq` used for exports: next to this executable by default.
    void setCliPath(const QString &path) { m_cli = path; }

public Q_SLOTS:
    void refreshDevices();
    // adb connect HOST:PORT, then refresh.
    void connectAddress(const QString &address);
    // `adb disconnect`: failures are ignored (the address may already be gone).
    void disconnectAddress(const QString &address);
    void runBenchmark(const mq::BenchmarkRequest &request);

Q_SIGNALS:
    void devicesListed(const std::vector<mq::DeviceInfo> &devices);
    void stage(const QString &message);
    void pushProgress(const QString &file, int percent);
    void warning(const QString &message);
    // The run ended (maybe early: report.error says why); stored in runFile as benchmark id.
    void finished(const mq::device::BenchmarkReport &report, const QString &runFile, const QString &id);
    // Nothing could be measured (device not ready, export or deploy failed).
    void failed(const QString &message);
    // A prompt length was clamped to the model's context, or skipped as a duplicate.
    void note(const QString &message);
    // runBenchmark() is over: `stored` benchmarks were written (one per prompt length).
    void runEnded(int stored);

private:
    QStringList exportMissing(const BenchmarkRequest &request);

    std::unique_ptr<DeviceBackend> m_backend;
    std::atomic<bool> m_cancel { false };
    QString m_cli;
};

} // namespace mq
