#include "widgets/devices/devices_dock.h"

#include "widgets/devices/benchmark_history_model.h"
#include "widgets/devices/benchmark_plots.h"
#include "widgets/devices/benchmark_worker.h"
#include "widgets/devices/device_list_model.h"

#include <QCheckBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
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
    top->addWidget(m_address, 1);
    top->addWidget(m_connect);
    top->addWidget(m_refresh);
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
    m_promptTokens = spin(form, 1, 32768, 1024);
    m_decodeTokens = spin(form, 0, 32768, 256);
    m_repeats = spin(form, 1, 1000, 5);
    m_warmup = spin(form, 0, 100, 1);
    tokens->addWidget(new QLabel(tr("prompt"), form));
    tokens->addWidget(m_promptTokens);
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
    layout->addWidget(m_progress);
    layout->addWidget(m_status);

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
    connect(m_worker, &BenchmarkWorker::pushProgress, this, [this](const QString &file, int percent) {
        m_progress->setFormat(tr("push %1: %p%").arg(file));
        m_progress->setValue(percent);
    });
    m_thread->start();

    connect(m_refresh, &QPushButton::clicked, this, &DevicesDock::refresh);
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
    m_thread->quit();
    m_thread->wait();
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

void DevicesDock::setTokens(int promptTokens, int decodeTokens, int repeats)
{
    m_promptTokens->setValue(promptTokens);
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
    r.options.promptTokens = m_promptTokens->value();
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
    setBusy(true);
    m_progress->setValue(0);
    log(tr("benchmark on %1").arg(r.serial));
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
    setBusy(false);
    m_plots->setReport(report);
    const bool complete = report.error.empty();
    m_status->setText(complete
            ? tr("finished: %1 variants, stored in %2 #%3").arg(report.variants.size()).arg(runFile, id)
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
    m_benchmark->setEnabled(!m_busy && !selectedSerial().isEmpty());
    m_cancel->setEnabled(m_busy);
    m_refresh->setEnabled(!m_busy);
    m_connect->setEnabled(!m_busy);
}

} // namespace mq
