#pragma once

#include "widgets/devices/device_types.h"

#include <QDockWidget>

#include <memory>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableView;
class QThread;

namespace mq {

class BenchmarkHistoryModel;
class BenchmarkPlots;
class BenchmarkWorker;
class DeviceListModel;

// The devices dock: the phones a device back-end sees (state, facts), and one-click benchmarking
// of the selected one — export the chosen variants from a calibration run where no package exists
// yet, deploy, benchmark each (the first is the baseline), then plots and a history of past
// benchmarks, with PNG/PDF/CSV export.
//
// Threads: the back-end's blocking calls run on a worker thread the dock owns (BenchmarkWorker);
// the dock only posts requests and receives value signals. Destroying the dock cancels a running
// benchmark (mq-run on the phone is killed) and waits for the worker.
class DevicesDock : public QDockWidget
{
    Q_OBJECT

public:
    // Takes the back-end (the "android-adb" plugin's createBackend()).
    explicit DevicesDock(std::unique_ptr<DeviceBackend> backend, QWidget *parent = nullptr);
    ~DevicesDock() override;

    // The form, for callers and tests.
    void setCalibrationRun(const QString &path);
    void setPackages(const QStringList &packages);
    void setVariants(const QStringList &variants); // "a16", "w8a8", "w4a8", "fp32"
    void setResultsFile(const QString &path);
    void setTokens(int promptTokens, int decodeTokens, int repeats);
    void setPowerHz(int hz);
    void setRunnerPath(const QString &path) { m_runnerPath = path; }
    void setCliPath(const QString &path);
    void setConnectAddress(const QString &address);
    void selectDevice(const QString &serial);

    BenchmarkRequest request() const;
    DeviceListModel *deviceModel() const { return m_devices; }
    BenchmarkHistoryModel *historyModel() const { return m_history; }
    BenchmarkPlots *plots() const { return m_plots; }
    QPushButton *benchmarkButton() const { return m_benchmark; }
    QPushButton *cancelButton() const { return m_cancel; }
    QString statusText() const;
    QString logText() const;

public Q_SLOTS:
    void refresh();
    void connectToAddress();
    void startBenchmark();
    void cancelBenchmark();
    void reloadHistory();
    // Asks for a folder and writes the four plots (PNG or PDF) and the CSV there.
    void exportResults(const QString &imageExtension);

Q_SIGNALS:
    void devicesChanged();
    void benchmarkFinished(const QString &runFile, const QString &id, bool complete);
    void benchmarkFailed(const QString &message);
    // Posted to the worker (queued).
    void requestRefresh();
    void requestConnect(const QString &address);
    void requestBenchmark(const mq::BenchmarkRequest &request);

private:
    void onDevices(const std::vector<DeviceInfo> &devices);
    void onFinished(const device::BenchmarkReport &report, const QString &runFile, const QString &id);
    void onFailed(const QString &message);
    void log(const QString &line);
    void setBusy(bool busy);
    void updateButtons();
    QString selectedSerial() const;

    QThread *m_thread = nullptr;
    BenchmarkWorker *m_worker = nullptr;
    DeviceListModel *m_devices = nullptr;
    BenchmarkHistoryModel *m_history = nullptr;
    BenchmarkPlots *m_plots = nullptr;
    QTableView *m_deviceView = nullptr;
    QTableView *m_historyView = nullptr;
    QLineEdit *m_address = nullptr;
    QLineEdit *m_run = nullptr;
    QLineEdit *m_packages = nullptr;
    QLineEdit *m_results = nullptr;
    QCheckBox *m_a16 = nullptr, *m_w8a8 = nullptr, *m_w4a8 = nullptr, *m_fp32 = nullptr;
    QSpinBox *m_promptTokens = nullptr, *m_decodeTokens = nullptr, *m_repeats = nullptr, *m_warmup = nullptr,
             *m_powerHz = nullptr;
    QPushButton *m_refresh = nullptr, *m_connect = nullptr, *m_benchmark = nullptr, *m_cancel = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_status = nullptr;
    QPlainTextEdit *m_log = nullptr;
    QString m_runnerPath;
    bool m_busy = false;
};

} // namespace mq
