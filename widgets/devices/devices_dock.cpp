#include "widgets/devices/devices_dock.h"

#include "widgets/devices/benchmark_history_model.h"
#include "widgets/devices/benchmark_plots.h"
#include "widgets/devices/benchmark_worker.h"
#include "widgets/devices/device_list_model.h"

#include <QCheckBox>
#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QThread>
#include <QVBoxLayout>

namespace mq {

namespace {

QSpinBox *spin(QWidget *parent, int lo, int hi, int value)
{
    auto *s = new QSpinBox(parent);
    s->setRange(lo, hi);
    s->setValue(value);
    return s;
}

} // namespace

DevicesDock::DevicesDock(std::unique_ptr<DeviceBackend> backend, QWidget *parent)
    : QDockWidget(tr("Devices"), parent)
{
    setObjectName(QStringLiteral("DevicesDock"));
    m_devices = new DeviceListModel(this);
    m_history = new BenchmarkHistoryModel(this);

    auto *root = new QWidget(this);
    auto *layout = new QVBoxLayout(root);

    // Devices.
    auto *top = new QHBoxLayout;
    m_address = new QLineEdit(root);
    m_address->setPlaceholderText(tr("HOST:PORT (Wi-Fi phone or virtual phone)"));
    m_connect = new QPushButton(tr("Connect"), root);
    m_refresh = new QPushButton(tr("Refresh"), root);
    m_startPhone = new QPushButton(tr("Start a virtual phone"), root);
    m_startPhone->setToolTip(tr("No phone? Starts mq-devsim, a simulated phone the real adb connects to: its "
                                "latency is real (mq-run runs on this computer), its power and temperature are "
                                "SIMULATED from the CPU time it uses (docs/devsim.md)."));
    top->addWidget(m_address, 1);
    top->addWidget(m_connect);
    top->addWidget(m_refresh);
    top->addWidget(m_startPhone);
    layout->addLayout(top);
    m_deviceView = new QTableView(root);
    m_deviceView->setModel(m_devices);
    m_deviceView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_deviceView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_deviceView->horizontalHeader()->setStretchLastSection(true);
    m_deviceView->verticalHeader()->hide();
    m_deviceView->setMaximumHeight(140);
    layout->addWidget(m_deviceView);

    // What to benchmark.
    auto *form = new QGroupBox(tr("Benchmark"), root);
    auto *fl = new QFormLayout(form);
    m_run = new QLineEdit(form);
    m_run->setPlaceholderText(tr("calibration run (.h5): variants are exported from it when missing"));
    fl->addRow(tr("Run"), m_run);
    auto *variants = new QHBoxLayout;
    m_a16 = new QCheckBox(tr("A16 (baseline)"), form);
    m_w8a8 = new QCheckBox(tr("W8A8"), form);
    m_w4a8 = new QCheckBox(tr("W4A8"), form);
    m_fp32 = new QCheckBox(tr("FP32"), form);
    for (QCheckBox *c : { m_a16, m_w8a8, m_w4a8 })
        c->setChecked(true);
    for (QCheckBox *c : { m_a16, m_w8a8, m_w4a8, m_fp32 })
        variants->addWidget(c);
    fl->addRow(tr("Variants"), variants);
    m_packages = new QLineEdit(form);
    m_packages->setPlaceholderText(tr("more packages, comma-separated (.mqpkg)"));
    fl->addRow(tr("Packages"), m_packages);
    auto *tokens = new QHBoxLayout;
    m_promptLengths = new QLineEdit(QStringLiteral("1024, 256"), form);
    m_promptLengths->setToolTip(tr("Prompt lengths in tokens, comma-separated: one benchmark each. A length that "
                                   "does not fit the model's context with the decoded tokens is clamped to it."));
    m_promptLengths->setMaximumWidth(110);
    m_decodeTokens = spin(form, 0, 32768, 256);
    m_repeats = spin(form, 1, 1000, 5);
    m_warmup = spin(form, 0, 100, 1);
    tokens->addWidget(new QLabel(tr("prompts"), form));
    tokens->addWidget(m_promptLengths);
    tokens->addWidget(new QLabel(tr("decode"), form));
    tokens->addWidget(m_decodeTokens);
    tokens->addWidget(new QLabel(tr("repeats"), form));
    tokens->addWidget(m_repeats);
    tokens->addWidget(new QLabel(tr("warm-ups"), form));
    tokens->addWidget(m_warmup);
    fl->addRow(tr("Tokens"), tokens);
    m_powerHz = spin(form, 1, 1000, 10);
    m_powerHz->setSuffix(tr(" Hz"));
    m_powerHz->setToolTip(tr("Battery sampling rate on the phone. Fuel gauges update every 0.1-1 s, so more than "
                             "10 Hz mostly repeats values on a real phone."));
    fl->addRow(tr("Sampling"), m_powerHz);
    m_results = new QLineEdit(form);
    m_results->setPlaceholderText(tr("results run file (default: the calibration run)"));
    fl->addRow(tr("Results"), m_results);
    auto *buttons = new QHBoxLayout;
    m_benchmark = new QPushButton(tr("Benchmark"), form);
    m_cancel = new QPushButton(tr("Cancel"), form);
    buttons->addWidget(m_benchmark);
    buttons->addWidget(m_cancel);
    buttons->addStretch(1);
    fl->addRow(buttons);
    layout->addWidget(form);

    m_progress = new QProgressBar(root);
    m_progress->setRange(0, 100);
    m_progress->setFormat(tr("push %p%"));
    m_status = new QLabel(root);
    m_status->setWordWrap(true);
    m_note = new QLabel(root);
    m_note->setWordWrap(true);
    m_note->setStyleSheet(QStringLiteral("color: #9a5b00;"));
    m_note->hide();
    layout->addWidget(m_progress);
    layout->addWidget(m_status);
    layout->addWidget(m_note);

    // Results, history, log.
    auto *tabs = new QTabWidget(root);
    auto *resultsPage = new QWidget(tabs);
    auto *rl = new QVBoxLayout(resultsPage);
    m_plots = new BenchmarkPlots(resultsPage);
    rl->addWidget(m_plots, 1);
    auto *exportRow = new QHBoxLayout;
    auto *png = new QPushButton(tr("Export PNG + CSV…"), resultsPage);
    auto *pdf = new QPushButton(tr("Export PDF + CSV…"), resultsPage);
    exportRow->addStretch(1);
    exportRow->addWidget(png);
    exportRow->addWidget(pdf);
    rl->addLayout(exportRow);
    tabs->addTab(resultsPage, tr("Results"));
    auto *historyPage = new QWidget(tabs);
    auto *hl = new QVBoxLayout(historyPage);
    m_historyView = new QTableView(historyPage);
    m_historyView->setModel(m_history);
    m_historyView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_historyView->horizontalHeader()->setStretchLastSection(true);
    m_historyView->verticalHeader()->hide();
    hl->addWidget(m_historyView);
    tabs->addTab(historyPage, tr("History"));
    m_log = new QPlainTextEdit(tabs);
    m_log->setReadOnly(true);
    tabs->addTab(m_log, tr("Log"));
    layout->addWidget(tabs, 1);
    setWidget(root);

    // The worker and its thread.
    m_thread = new QThread(this);
    m_worker = new BenchmarkWorker(std::move(backend));
    m_worker->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(this, &DevicesDock::requestRefresh, m_worker, &BenchmarkWorker::refreshDevices);
    connect(this, &DevicesDock::requestConnect, m_worker, &BenchmarkWorker::connectAddress);
    connect(this, &DevicesDock::requestBenchmark, m_worker, &BenchmarkWorker::runBenchmark);
    connect(m_worker, &BenchmarkWorker::devicesListed, this, &DevicesDock::onDevices);
    connect(m_worker, &BenchmarkWorker::finished, this, &DevicesDock::onFinished);
    connect(m_worker, &BenchmarkWorker::failed, this, &DevicesDock::onFailed);
    connect(m_worker, &BenchmarkWorker::stage, this, [this](const QString &s) {
        m_status->setText(s);
        log(s);
    });
    connect(m_worker, &BenchmarkWorker::warning, this, [this](const QString &s) { log(tr("warning: %1").arg(s)); });
    connect(m_worker, &BenchmarkWorker::note, this, [this](const QString &s) {
        m_note->setText(m_note->text().isEmpty() ? s : m_note->text() + QLatin1Char('\n') + s);
        m_note->show();
    });
    connect(m_worker, &BenchmarkWorker::runEnded, this, [this](int stored) {
        setBusy(false);
        Q_EMIT benchmarksDone(stored);
    });
    connect(m_worker, &BenchmarkWorker::pushProgress, this, [this](const QString &file, int percent) {
        m_progress->setFormat(tr("push %1: %p%").arg(file));
        m_progress->setValue(percent);
    });
    m_thread->start();

    connect(m_refresh, &QPushButton::clicked, this, &DevicesDock::refresh);
    connect(m_startPhone, &QPushButton::clicked, this, &DevicesDock::startVirtualPhone);
    connect(m_connect, &QPushButton::clicked, this, &DevicesDock::connectToAddress);
    connect(m_benchmark, &QPushButton::clicked, this, &DevicesDock::startBenchmark);
    connect(m_cancel, &QPushButton::clicked, this, &DevicesDock::cancelBenchmark);
    connect(png, &QPushButton::clicked, this, [this] { exportResults(QStringLiteral("png")); });
    connect(pdf, &QPushButton::clicked, this, [this] { exportResults(QStringLiteral("pdf")); });
    connect(m_deviceView->selectionModel(), &QItemSelectionModel::selectionChanged, this, &DevicesDock::updateButtons);
    connect(m_historyView->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
        [this](const QModelIndex &current) {
            if (current.isValid() && size_t(current.row()) < m_history->entries().size())
                m_plots->setReport(m_history->entries()[size_t(current.row())].report);
        });
    updateButtons();
}

DevicesDock::~DevicesDock()
{
    m_worker->cancel();
    // The virtual phone this dock started is forgotten by adb before it stops, or adb would keep
    // listing it as offline (waits for a cancelled benchmark to wind down first).
    if (m_devsim && !m_devsimAddress.isEmpty())
        QMetaObject::invokeMethod(
            m_worker, [w = m_worker, a = m_devsimAddress] { w->disconnectAddress(a); }, Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
    stopVirtualPhone();
}

void DevicesDock::setCalibrationRun(const QString &path)
{
    m_run->setText(path);
}

void DevicesDock::setPackages(const QStringList &packages)
{
    m_packages->setText(packages.join(QLatin1Char(',')));
}

void DevicesDock::setVariants(const QStringList &variants)
{
    m_a16->setChecked(variants.contains(QStringLiteral("a16")));
    m_w8a8->setChecked(variants.contains(QStringLiteral("w8a8")));
    m_w4a8->setChecked(variants.contains(QStringLiteral("w4a8")));
    m_fp32->setChecked(variants.contains(QStringLiteral("fp32")));
}

void DevicesDock::setResultsFile(const QString &path)
{
    m_results->setText(path);
}

void DevicesDock::setPromptLengths(const QList<int> &lengths)
{
    QStringList words;
    for (int n : lengths)
        words << QString::number(n);
    m_promptLengths->setText(words.join(QStringLiteral(", ")));
}

QList<int> DevicesDock::promptLengths() const
{
    QList<int> out;
    for (const QString &w :
        m_promptLengths->text().split(QRegularExpression(QStringLiteral("[,;\\s]+")), Qt::SkipEmptyParts)) {
        bool ok = false;
        const int n = w.toInt(&ok);
        if (!ok || n < 1)
            return {};
        out << n;
    }
    return out;
}

QString DevicesDock::noteText() const
{
    return m_note->text();
}

void DevicesDock::setTokens(int promptTokens, int decodeTokens, int repeats)
{
    setPromptLengths({ promptTokens });
    m_decodeTokens->setValue(decodeTokens);
    m_repeats->setValue(repeats);
}

void DevicesDock::setPowerHz(int hz)
{
    m_powerHz->setValue(hz);
}

void DevicesDock::setCliPath(const QString &path)
{
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, path] { w->setCliPath(path); }, Qt::QueuedConnection);
}

void DevicesDock::setConnectAddress(const QString &address)
{
    m_address->setText(address);
}

void DevicesDock::selectDevice(const QString &serial)
{
    const int row = m_devices->rowOf(serial);
    if (row >= 0)
        m_deviceView->selectRow(row);
}

QString DevicesDock::selectedSerial() const
{
    const auto rows = m_deviceView->selectionModel()->selectedRows();
    if (rows.isEmpty() || size_t(rows.front().row()) >= m_devices->devices().size())
        return {};
    return QString::fromStdString(m_devices->devices()[size_t(rows.front().row())].serial);
}

BenchmarkRequest DevicesDock::request() const
{
    BenchmarkRequest r;
    r.serial = selectedSerial();
    r.calibrationRun = m_run->text().trimmed();
    if (!r.calibrationRun.isEmpty()) {
        const std::pair<QCheckBox *, const char *> boxes[]
            = { { m_a16, "a16" }, { m_w8a8, "w8a8" }, { m_w4a8, "w4a8" }, { m_fp32, "fp32" } };
        for (const auto &[box, name] : boxes)
            if (box->isChecked())
                r.variants << QLatin1String(name);
    }
    for (const QString &p : m_packages->text().split(QLatin1Char(','), Qt::SkipEmptyParts))
        r.packages << p.trimmed();
    r.resultsFile = m_results->text().trimmed();
    r.promptLengths = promptLengths();
    r.options.promptTokens = r.promptLengths.isEmpty() ? 0 : r.promptLengths.front();
    r.options.decodeTokens = m_decodeTokens->value();
    r.options.repeats = m_repeats->value();
    r.options.warmup = m_warmup->value();
    r.options.powerHz = m_powerHz->value();
    r.options.runnerPath = m_runnerPath.toStdString();
    return r;
}

QString DevicesDock::statusText() const
{
    return m_status->text();
}

QString DevicesDock::logText() const
{
    return m_log->toPlainText();
}

bool DevicesDock::hasDevices() const
{
    return !m_devices->devices().empty();
}

void DevicesDock::onVirtualPhoneOutput()
{
    m_devsimOutput += m_devsim->readAllStandardOutput();
    static const QRegularExpression listening(QStringLiteral("listening on (127\\.0\\.0\\.1:(\\d+))"));
    const QRegularExpressionMatch m = listening.match(QString::fromUtf8(m_devsimOutput));
    if (!m.hasMatch() || !m_devsimAddress.isEmpty())
        return;
    const int port = m.captured(2).toInt();
    if (port >= 5555 && port <= 5585 && m_devsimAttempts < 5) {
        // adb's server scans 5555-5585 for emulators and would list the phone twice: another port.
        stopVirtualPhone();
        startVirtualPhone();
        return;
    }
    m_devsimAddress = m.captured(1);
    m_devsimAttempts = 0;
    log(tr("virtual phone (simulated) listening on %1, sandbox %2").arg(m_devsimAddress, m_devsimSandbox));
    m_address->setText(m_devsimAddress);
    m_status->setText(tr("connecting to the virtual phone at %1…").arg(m_devsimAddress));
    Q_EMIT virtualPhoneStarted(m_devsimAddress);
    Q_EMIT requestConnect(m_devsimAddress);
}

void DevicesDock::stopVirtualPhone()
{
    if (!m_devsim)
        return;
    QProcess *p = m_devsim;
    m_devsim = nullptr;
    p->disconnect(this);
    if (p->state() != QProcess::NotRunning) {
        p->terminate(); // SIGTERM: mq-devsim hangs up its shells and exits
        if (!p->waitForFinished(5000)) {
            p->kill();
            p->waitForFinished(2000);
        }
    }
    p->deleteLater(); // may be inside one of its own signals
    m_devsimAddress.clear();
    m_devsimOutput.clear();
}

void DevicesDock::startVirtualPhone()
{
    if (m_devsim && !m_devsimAddress.isEmpty()) {
        m_status->setText(tr("the virtual phone is already running at %1; connecting").arg(m_devsimAddress));
        Q_EMIT requestConnect(m_devsimAddress);
        return;
    }
    if (m_devsim)
        return; // starting
    const QString program = !m_devsimProgram.isEmpty()
        ? m_devsimProgram
        : QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("mq-devsim"));
    if (!QFileInfo(program).isExecutable()) {
        const QString message = tr("cannot start the virtual phone: %1 is missing or not executable. mq-devsim is "
                                   "built with the workbench (target mq-devsim) and installed beside it; build "
                                   "it, or reinstall the package")
                                    .arg(QDir::toNativeSeparators(program));
        onFailed(message);
        return;
    }
    if (m_devsimSandbox.isEmpty())
        m_devsimSandbox = QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
                              .filePath(QStringLiteral("virtual-phone"));
    if (!QDir().mkpath(m_devsimSandbox)) {
        onFailed(tr("cannot start the virtual phone: cannot create its folder %1").arg(m_devsimSandbox));
        return;
    }
    ++m_devsimAttempts;
    m_devsim = new QProcess(this);
    m_devsim->setProgram(program);
    m_devsim->setArguments(
        { QStringLiteral("--sandbox"), m_devsimSandbox, QStringLiteral("--port"), QStringLiteral("0") });
    m_devsim->setProcessChannelMode(QProcess::SeparateChannels);
    connect(m_devsim, &QProcess::readyReadStandardOutput, this, &DevicesDock::onVirtualPhoneOutput);
    connect(m_devsim, &QProcess::readyReadStandardError, this, [this] {
        for (const QString &line :
            QString::fromUtf8(m_devsim->readAllStandardError()).split(QLatin1Char('\n'), Qt::SkipEmptyParts))
            log(tr("virtual phone: %1").arg(line));
    });
    connect(m_devsim, &QProcess::errorOccurred, this, [this, program](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart) {
            stopVirtualPhone();
            onFailed(tr("cannot start the virtual phone %1: %2").arg(program, tr("the program did not start")));
            updateButtons();
        }
    });
    connect(m_devsim, &QProcess::finished, this, [this](int code, QProcess::ExitStatus) {
        const QString err = QString::fromUtf8(m_devsim->readAllStandardError()).trimmed();
        const bool wasListening = !m_devsimAddress.isEmpty();
        m_devsim->deleteLater();
        m_devsim = nullptr;
        m_devsimAddress.clear();
        m_devsimOutput.clear();
        onFailed(wasListening ? tr("the virtual phone stopped (exit %1)").arg(code)
                              : tr("the virtual phone did not start (exit %1): %2").arg(code).arg(err));
        updateButtons();
        refresh();
    });
    m_status->setText(tr("starting the virtual phone (simulated)…"));
    m_devsim->start();
    updateButtons();
}

void DevicesDock::refresh()
{
    m_status->setText(tr("looking for devices…"));
    Q_EMIT requestRefresh();
}

void DevicesDock::connectToAddress()
{
    const QString a = m_address->text().trimmed();
    if (a.isEmpty()) {
        m_status->setText(tr("type HOST:PORT first (the phone's address, or the virtual phone's)"));
        return;
    }
    m_status->setText(tr("connecting to %1…").arg(a));
    Q_EMIT requestConnect(a);
}

void DevicesDock::startBenchmark()
{
    const BenchmarkRequest r = request();
    if (r.serial.isEmpty()) {
        m_status->setText(tr("select a device first"));
        return;
    }
    if (r.promptLengths.isEmpty()) {
        m_status->setText(tr("prompt lengths must be whole numbers of tokens, comma-separated (e.g. 1024, 256); "
                             "got \"%1\"")
                              .arg(m_promptLengths->text()));
        return;
    }
    m_note->clear();
    m_note->hide();
    setBusy(true);
    m_progress->setValue(0);
    log(tr("benchmark on %1").arg(r.serial));
    Q_EMIT benchmarkStarting(r.resultsFile.isEmpty() ? r.calibrationRun : r.resultsFile);
    Q_EMIT requestBenchmark(r);
}

void DevicesDock::cancelBenchmark()
{
    m_worker->cancel(); // an atomic flag: safe from this thread
    m_status->setText(tr("cancelling: stopping mq-run on the phone…"));
}

void DevicesDock::reloadHistory()
{
    QStringList extra;
    QString folder;
    for (const QString &f : { m_results->text().trimmed(), m_run->text().trimmed() })
        if (!f.isEmpty()) {
            extra << f;
            if (folder.isEmpty())
                folder = QFileInfo(f).absolutePath();
        }
    for (const QString &problem : m_history->load(folder, extra))
        log(problem);
}

void DevicesDock::exportResults(const QString &ext)
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Export the benchmark plots to"));
    if (dir.isEmpty())
        return;
    const QStringList errors = m_plots->exportAll(dir, QStringLiteral("device-benchmark"), ext);
    m_status->setText(errors.isEmpty() ? tr("exported to %1").arg(dir) : errors.join(QLatin1Char('\n')));
}

void DevicesDock::onDevices(const std::vector<DeviceInfo> &devices)
{
    const QString keep = selectedSerial();
    m_devices->setDevices(devices);
    int ready = 0;
    for (const auto &d : devices)
        ready += d.state == "device" ? 1 : 0;
    m_status->setText(tr("%n device(s)", nullptr, int(devices.size())) + tr(", %1 ready").arg(ready));
    for (const auto &d : devices)
        if (auto it = d.facts.find("advice"); it != d.facts.end())
            log(QString::fromStdString(it->second));
    if (!keep.isEmpty())
        selectDevice(keep);
    else if (devices.size() == 1)
        m_deviceView->selectRow(0);
    updateButtons();
    Q_EMIT devicesChanged();
}

void DevicesDock::onFinished(const device::BenchmarkReport &report, const QString &runFile, const QString &id)
{
    m_plots->setReport(report);
    const bool complete = report.error.empty();
    m_status->setText(complete ? tr("finished: %1 variants, prompt %2 tokens, power from %3; stored in %4 #%5")
                                     .arg(report.variants.size())
                                     .arg(report.promptTokens)
                                     .arg(QString::fromStdString(device::powerSourceText(report)), runFile, id)
                               : tr("ended early: %1").arg(QString::fromStdString(report.error)));
    log(QString::fromStdString(device::resultsTable(report)));
    reloadHistory();
    Q_EMIT benchmarkFinished(runFile, id, complete);
}

void DevicesDock::onFailed(const QString &message)
{
    setBusy(false);
    m_status->setText(message);
    log(tr("error: %1").arg(message));
    Q_EMIT benchmarkFailed(message);
}

void DevicesDock::log(const QString &line)
{
    m_log->appendPlainText(line);
}

void DevicesDock::setBusy(bool busy)
{
    m_busy = busy;
    updateButtons();
}

void DevicesDock::updateButtons()
{
    m_startPhone->setVisible(m_devices->devices().empty() && !m_devsim);
    m_benchmark->setEnabled(!m_busy && !selectedSerial().isEmpty());
    m_cancel->setEnabled(m_busy);
    m_refresh->setEnabled(!m_busy);
    m_connect->setEnabled(!m_busy);
}

} // namespace mq
