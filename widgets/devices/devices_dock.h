#pragma once

#include "widgets/devices/device_types.h"

#include <QDockWidget>

#include <memory>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProcess;
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
    // One prompt length (and the decode length and repeats).
    void setTokens(int promptTokens, int decodeTokens, int repeats);
    // Several prompt lengths, one benchmark each (default 1024, 256).
    void setPromptLengths(const QList<int> &lengths);
    QList<int> promptLengths() const;
    void setPowerHz(int hz);
    void setRunnerPath(const QString &path) { m_runnerPath = path; }
    void setCliPath(const QString &path);
    void setConnectAddress(const QString &address);
    // The virtual phone's program and sandbox (defaults: mq-devsim beside this executable, and
    // the app data folder's virtual-phone/); for tests and odd installs.
    void setVirtualPhoneProgram(const QString &path) { m_devsimProgram = path; }
    void setVirtualPhoneSandbox(const QString &path) { m_devsimSandbox = path; }
    // HOST:PORT of the virtual phone this dock started, or empty.
    QString virtualPhoneAddress() const { return m_devsimAddress; }
    void selectDevice(const QString &serial);

    BenchmarkRequest request() const;
    DeviceListModel *deviceModel() const { return m_devices; }
    BenchmarkHistoryModel *historyModel() const { return m_history; }
    BenchmarkPlots *plots() const { return m_plots; }
    QPushButton *benchmarkButton() const { return m_benchmark; }
    QPushButton *cancelButton() const { return m_cancel; }
    QPushButton *virtualPhoneButton() const { return m_startPhone; }
    // The note about prompt lengths clamped to the model's context (empty when none was).
    QString noteText() const;
    QString statusText() const;
    QString logText() const;
    // True when the last device listing had at least one device (in any state); devicesChanged()
    // says when that may have changed.
    bool hasDevices() const;

public Q_SLOTS:
    // Starts the virtual phone (mq-devsim beside this executable, sandbox under the app data
    // folder's virtual-phone/, a free loopback port outside adb's emulator range 5555-5585),
    // adb-connects to it and refreshes the list. Its figures are simulated. The dock stops it when
    // destroyed. Errors (no mq-devsim, no adb) go to the status line and benchmarkFailed().
    void startVirtualPhone();
    void refresh();
    void connectToAddress();
    void startBenchmark();
    void cancelBenchmark();
    void reloadHistory();
    // Asks for a folder and writes the four plots (PNG or PDF) and the CSV there.
    void exportResults(const QString &imageExtension);

Q_SIGNALS:
    void devicesChanged();
    // A benchmark is about to start; its results go into `resultsFile` when it ends. A reader that
    // holds that file open in this process (the window showing the run) must let go of it until
    // benchmarksDone(), or HDF5 refuses the write (the results then go beside it).
    void benchmarkStarting(const QString &resultsFile);
    // One benchmark stored (one per prompt length).
    void benchmarkFinished(const QString &runFile, const QString &id, bool complete);
    // A click's benchmarks are over (`stored` of them written).
    void benchmarksDone(int stored);
    // The virtual phone is listening on `address` (adb connect follows).
    void virtualPhoneStarted(const QString &address);
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
    void onVirtualPhoneOutput();
    void stopVirtualPhone();

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
    QLineEdit *m_promptLengths = nullptr;
    QLabel *m_note = nullptr;
    QPushButton *m_startPhone = nullptr;
    QProcess *m_devsim = nullptr;
    QString m_devsimProgram, m_devsimSandbox, m_devsimAddress;
    QByteArray m_devsimOutput;
    int m_devsimAttempts = 0;
    QSpinBox *m_decodeTokens = nullptr, *m_repeats = nullptr, *m_warmup = nullptr, *m_powerHz = nullptr;
    QPushButton *m_refresh = nullptr, *m_connect = nullptr, *m_benchmark = nullptr, *m_cancel = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_status = nullptr;
    QPlainTextEdit *m_log = nullptr;
    QString m_runnerPath;
    bool m_busy = false;
};

} // namespace mq
