#include "app/workbench/main_window.h"

#include "app/workbench/about_boxes.h"
#include "app/workbench/calibration_panel.h"
#include "app/workbench/export_actions.h"
#include "app/workbench/model_probe.h"
#include "app/workbench/package_dialog.h"
#include "app/workbench/run_display.h"
#include "app/workbench/runs_panel.h"
#include "app/workbench/screenshots.h"
#include "app/workbench/site_browser.h"
#include "app/workbench/welcome_page.h"
#include "core/store/run_reader.h"
#include "plugins/api/plugin_manager.h"
#include "widgets/ablation_view.h"
#include "widgets/devices/device_list_model.h"
#include "widgets/devices/devices_dock.h"
#include "widgets/outlier_inspector.h"
#include "widgets/plot_export.h"
#include "widgets/qcustomplot_include.h"
#include "widgets/range_evolution_view.h"
#include "widgets/run_comparison_view.h"
#include "widgets/run_list_model.h"
#include "widgets/site_tree_model.h"
#include "widgets/training_view.h"
#include "widgets/transform_scale_view.h"
#include "widgets/weight_range_view.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QToolBar>
#include <QTreeView>
#include <QVBoxLayout>

namespace mq {

namespace {

constexpr int kMaxRecent = 8;
const QString kWelcomeShown = QStringLiteral("welcome/shown");
const QString kWelcomeAtStartup = QStringLiteral("welcome/showAtStartup");
const QString kSampleModel = QStringLiteral("welcome/sampleModel");
const QString kRunsFolder = QStringLiteral("welcome/runsFolder");
// The site the Inspect job selects: the down-projection input is the widest activation of a
// layer, where the paper's outlier channels show first (watched by default).
const QString kInspectSite = QStringLiteral("layers.0.mlp.down.in");

QString formatDuration(double seconds)
{
    const qint64 s = qint64(seconds + 0.5);
    if (s >= 3600)
        return QStringLiteral("%1:%2:%3")
            .arg(s / 3600)
            .arg(s / 60 % 60, 2, 10, QLatin1Char('0'))
            .arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

// The precision map a request implies, as the session builds it (bits preset or a JSON file).
PrecisionMap requestedMap(const RunRequest &r)
{
    if (!r.precisionMapPath.isEmpty())
        return PrecisionMap::load(r.precisionMapPath.toStdString());
    const auto preset = parseWeightPreset(r.bits.toStdString());
    return preset ? PrecisionMap(*preset) : PrecisionMap(WeightPreset::W8A8);
}

} // namespace

MainWindow::MainWindow(PluginManager &plugins, QWidget *parent)
    : QMainWindow(parent)
    , m_plugins(plugins)
{
    setWindowTitle(tr("MQ Workbench"));
    setObjectName(QStringLiteral("MainWindow"));
    setAcceptDrops(true);
    setDockNestingEnabled(true);
    m_runner = new CalibrationRunner(this);
    buildDocks();
    buildMenus();

    m_stageLabel = new QLabel;
    m_stepLabel = new QLabel;
    m_progress = new QProgressBar;
    m_progress->setMaximumWidth(220);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(QStringLiteral("%p%"));
    m_progress->setVisible(false); // shown while a calibration runs
    statusBar()->addWidget(m_stageLabel, 1);
    statusBar()->addPermanentWidget(m_stepLabel);
    statusBar()->addPermanentWidget(m_progress);

    RunDisplay::Views views;
    views.sites = m_sites->model();
    views.ranges = m_rangeView;
    views.training = m_trainingView;
    views.inspector = m_inspector;
    views.scales = m_scaleView;
    views.weights = m_weightView;
    m_display = new RunDisplay(views, this);

    connect(m_runner->bridge(), &SessionBridge::batch, this, &MainWindow::onBatch);
    connect(m_runner, &CalibrationRunner::runEnded, this, &MainWindow::onRunEnded);
    connect(m_runner, &CalibrationRunner::stateChanged, this, &MainWindow::onStateChanged);
    connect(m_panel, &CalibrationPanel::modelPathChosen, this, [this](const QString &p) { openModel(p); });
    connect(m_panel, &CalibrationPanel::startRequested, this, &MainWindow::startCalibration);
    connect(m_panel, &CalibrationPanel::pauseToggled, this, &MainWindow::togglePause);
    connect(m_panel, &CalibrationPanel::stopRequested, this, &MainWindow::stopCalibration);
    onStateChanged(CalibrationRunner::State::Idle);
    resize(1400, 900);
}

MainWindow::~MainWindow() = default;

QDockWidget *MainWindow::addDock(const QString &title, const QString &name, QWidget *content, Qt::DockWidgetArea area)
{
    auto *dock = new QDockWidget(title, this);
    dock->setObjectName(name); // saveState/restoreState key
    dock->setWidget(content);
    addDockWidget(area, dock);
    m_docks << dock;
    return dock;
}

void MainWindow::buildDocks()
{
    // Calibration form.
    m_panel = new CalibrationPanel(m_plugins.methods());
    QDockWidget *calibDock
        = addDock(tr("Calibration"), QStringLiteral("calibrationDock"), m_panel, Qt::LeftDockWidgetArea);

    m_sites = new SiteBrowser;
    connect(m_sites, &SiteBrowser::selectionChanged, this, &MainWindow::onSiteSelection);
    QDockWidget *sitesDock = addDock(tr("Sites"), QStringLiteral("sitesDock"), m_sites, Qt::LeftDockWidgetArea);
    splitDockWidget(calibDock, sitesDock, Qt::Vertical);

    // The outlier inspector is what a researcher watches most: the central widget.
    m_inspector = new OutlierInspector;
    setCentralWidget(m_inspector);
    attachTableExport(
        m_inspector->outlierTable(), [this] { return modelToCsv(*m_inspector->outlierTable()->model()); });

    m_scaleView = new TransformScaleView;
    QDockWidget *scaleDock
        = addDock(tr("Transform scales"), QStringLiteral("scalesDock"), m_scaleView, Qt::RightDockWidgetArea);

    m_trainingTabs = new QTabWidget;
    m_trainingView = new TrainingView;
    m_weightView = new WeightRangeView;
    m_trainingTabs->addTab(m_trainingView, tr("Loss and learning rate"));
    m_trainingTabs->addTab(m_weightView, tr("Weight ranges (LWC)"));
    QDockWidget *trainDock
        = addDock(tr("Training"), QStringLiteral("trainingDock"), m_trainingTabs, Qt::BottomDockWidgetArea);

    m_runsPanel = new RunsPanel;
    connect(m_runsPanel, &RunsPanel::openRunRequested, this, &MainWindow::openRunDialog);
    connect(m_runsPanel, &RunsPanel::openFolderRequested, this, &MainWindow::openRunFolderDialog);
    connect(m_runsPanel, &RunsPanel::showRunRequested, this, [this](const QString &path) { openRun(path, true); });
    connect(m_runsPanel, &RunsPanel::problem, this, &MainWindow::showError);
    QDockWidget *runsDock = addDock(tr("Runs"), QStringLiteral("runsDock"), m_runsPanel, Qt::BottomDockWidgetArea);
    // Benchmarking on phones (docs/device-benchmarking.md), when the adb back-end plugin loaded.
    if (const DeviceBackendPlugin *adb = m_plugins.device(QStringLiteral("android-adb"))) {
        m_devices = new DevicesDock(adb->createBackend({}), this);
        m_devices->setObjectName(QStringLiteral("devicesDock"));
        addDockWidget(Qt::BottomDockWidgetArea, m_devices);
        m_docks << m_devices;
    }
    m_rangeView = new RangeEvolutionView;
    QDockWidget *rangeDock
        = addDock(tr("Range evolution"), QStringLiteral("rangeDock"), m_rangeView, Qt::BottomDockWidgetArea);
    splitDockWidget(trainDock, rangeDock, Qt::Horizontal);
    splitDockWidget(rangeDock, runsDock, Qt::Horizontal);
    if (m_devices) {
        tabifyDockWidget(runsDock, m_devices);
        runsDock->raise();
        // Hidden until View > Devices: its form's minimum height would squeeze the analysis views.
        m_devices->hide();
        // A benchmark stores its results in the calibration run this window may be showing: the
        // display lets go of the file while the benchmark runs and reads it again afterwards.
        connect(m_devices, &DevicesDock::benchmarkStarting, this, [this](const QString &resultsFile) {
            if (m_display)
                m_display->releaseFile(resultsFile);
        });
        connect(m_devices, &DevicesDock::benchmarksDone, this, [this] {
            if (!m_display)
                return;
            const QString why = m_display->reacquireFile();
            if (!why.isEmpty())
                statusBar()->showMessage(tr("could not reopen the run after the benchmark: %1").arg(why));
        });
        connect(m_devices, &DevicesDock::devicesChanged, this, [this] {
            m_devicesListed = true;
            if (m_welcome)
                m_welcome->setDeviceState(true, m_devices->deviceModel()->rowCount());
        });
    }

    for (QDockWidget *d : m_docks)
        attachPlotExport(d);
    attachPlotExport(m_inspector);

    // The first layout (before any saved one is restored): the inspector in the middle gets
    // most of the width, the form and the tree a column on the left, the plots of the run the
    // right column and the bottom.
    resizeDocks({ calibDock, scaleDock }, { 400, 520 }, Qt::Horizontal);
    resizeDocks({ calibDock, sitesDock }, { 440, 360 }, Qt::Vertical);
    resizeDocks({ trainDock }, { 320 }, Qt::Vertical);
    resizeDocks({ trainDock, rangeDock, runsDock }, { 560, 560, 680 }, Qt::Horizontal);
}

void MainWindow::buildMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    QAction *openModelAction = file->addAction(tr("Open &model…"), this, &MainWindow::openModelDialog);
    openModelAction->setShortcut(QKeySequence::Open);
    m_recentMenu = file->addMenu(tr("Recent models"));
    refreshRecentMenu();
    QAction *openRunAction = file->addAction(tr("Open &run…"), this, &MainWindow::openRunDialog);
    openRunAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    file->addAction(tr("Open run &folder…"), this, &MainWindow::openRunFolderDialog);
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu *run = menuBar()->addMenu(tr("&Run"));
    m_startAction = run->addAction(tr("&Start calibration"), this, &MainWindow::startCalibration);
    m_startAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_pauseAction = run->addAction(tr("&Pause / resume"), this, &MainWindow::togglePause);
    m_pauseAction->setShortcuts({ QKeySequence(Qt::CTRL | Qt::Key_P), QKeySequence(Qt::Key_Pause) });
    m_stopAction = run->addAction(tr("S&top"), this, &MainWindow::stopCalibration);
    m_stopAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
    run->addSeparator();
    run->addAction(tr("&Continue a stopped run…"), this, &MainWindow::resumeRunDialog);

    QMenu *view = menuBar()->addMenu(tr("&View"));
    for (QDockWidget *d : m_docks)
        view->addAction(d->toggleViewAction());

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&Welcome"), this, &MainWindow::showWelcome);
    help->addAction(tr("&Plugins…"), this, [this] { showPluginsBox(this, m_plugins); });
    help->addAction(tr("&About MQ Workbench"), this, [this] { showAboutBox(this); });

    QToolBar *bar = addToolBar(tr("Calibration"));
    bar->setObjectName(QStringLiteral("calibrationToolBar"));
    bar->addAction(openModelAction);
    bar->addAction(openRunAction);
    bar->addSeparator();
    bar->addAction(m_startAction);
    bar->addAction(m_pauseAction);
    bar->addAction(m_stopAction);
}

void MainWindow::showError(const QString &title, const QString &message)
{
    m_lastError = message;
    statusBar()->showMessage(message, 15000);
    if (m_interactive)
        QMessageBox::warning(this, title, message);
}

bool MainWindow::openModel(const QString &path)
{
    if (path.isEmpty())
        return false;
    ModelProbe probe;
    try {
        probe = ModelProbe::read(path.toStdString());
    } catch (const std::exception &e) {
        m_panel->setModelInfo(QString::fromUtf8(e.what()), false);
        showError(tr("Open model"), QString::fromUtf8(e.what()));
        return false;
    }
    m_panel->setModelPath(path);
    const ModelConfig &c = probe.config;
    QString info = tr("%1 (%2): %3 layers, hidden %4, intermediate %5, %6 heads, vocab %7")
                       .arg(QString::fromLatin1(archName(c.arch)), QString::fromStdString(probe.format))
                       .arg(c.numLayers)
                       .arg(c.hiddenSize)
                       .arg(c.intermediateSize)
                       .arg(c.numHeads)
                       .arg(c.vocabSize);
    const bool hasTokenizer = !probe.tokenizerPath.empty();
    info += hasTokenizer ? tr("; tokenizer %1").arg(QFileInfo(QString::fromStdString(probe.tokenizerPath)).fileName())
                         : tr("; no tokenizer found beside it: put tokenizer.bin / tok*.bin (llama2.c) or "
                              "tokenizer.model / tokenizer.json (Hugging Face) next to the checkpoint");
    m_panel->setModelInfo(info, hasTokenizer);
    if (!m_runner->busy()) {
        try {
            m_display->showModelSites(probe.activationSites, requestedMap(m_panel->request()));
        } catch (const std::exception &) {
            m_display->showModelSites(probe.activationSites, PrecisionMap(WeightPreset::W8A8));
        }
    }
    addRecentModel(path);
    statusBar()->showMessage(tr("Opened %1").arg(path), 5000);
    return true;
}

bool MainWindow::openRun(const QString &path, bool show)
{
    const QString abs = QFileInfo(path).absoluteFilePath();
    const QString error = m_runsPanel->addRun(abs);
    if (!error.isEmpty()) {
        showError(tr("Open run"), error);
        return false;
    }
    if (show && m_runner->busy()) {
        // The views follow the running calibration; another file would take them away from it.
        statusBar()->showMessage(tr("Added %1 to the runs; double-click its row to show it once the calibration "
                                    "has ended")
                                     .arg(QFileInfo(abs).fileName()),
            10000);
        return true;
    }
    if (show) {
        const QString showProblem = m_display->showRunFile(abs);
        if (!showProblem.isEmpty()) {
            showError(tr("Open run"), showProblem);
            return false;
        }
        setWindowTitle(tr("MQ Workbench — %1").arg(QFileInfo(abs).fileName()));
        showRunSummary(abs);
        if (m_devices)
            m_devices->setCalibrationRun(abs); // the run whose packages a benchmark exports
        if (!m_display->currentSite().isEmpty())
            selectSite(m_display->currentSite());
    }
    statusBar()->showMessage(tr("Opened run %1").arg(abs), 5000);
    return true;
}

void MainWindow::showRunSummary(const QString &path)
{
    const int row = runList()->rowOfPath(path);
    if (row < 0)
        return;
    const RunSummary &run = runList()->run(row);
    QString text = tr("%1 %2: %3 steps").arg(run.method, run.bits).arg(run.steps);
    if (run.finalLoss)
        text += tr(", final loss %1").arg(*run.finalLoss, 0, 'g', 4);
    if (run.quantPerplexity)
        text += tr(", perplexity %1").arg(*run.quantPerplexity, 0, 'f', 3);
    m_stepLabel->setText(text);
}

int MainWindow::openRunFolder(const QString &folder)
{
    QStringList problems;
    const int opened = m_runsPanel->addFolder(folder, &problems);
    if (!problems.isEmpty())
        showError(tr("Open run folder"), problems.join(QLatin1Char('\n')));
    else
        statusBar()->showMessage(tr("Opened %1 run files from %2").arg(opened).arg(folder), 8000);
    return opened;
}

bool MainWindow::startCalibration()
{
    if (m_runner->busy())
        return false;
    QString selected = m_display->currentSite();
    RunRequest r = m_panel->request(selected);
    QStringList missing;
    if (r.modelPath.isEmpty())
        missing << tr("a model (File > Open model…)");
    if (r.calibPath.isEmpty())
        missing << tr("a calibration text");
    if (r.runPath.isEmpty())
        missing << tr("a run file to record to");
    if (!missing.isEmpty()) {
        showError(tr("Start calibration"), tr("To start, choose %1.").arg(missing.join(tr(", "))));
        return false;
    }
    if (!QFileInfo::exists(r.modelPath)) {
        showError(tr("Start calibration"), tr("%1: no such checkpoint").arg(r.modelPath));
        return false;
    }
    if (!QFileInfo(r.calibPath).isFile()) {
        showError(tr("Start calibration"), tr("%1: no such calibration text").arg(r.calibPath));
        return false;
    }
    if (!r.evalPath.isEmpty() && !QFileInfo(r.evalPath).isFile()) {
        showError(tr("Start calibration"),
            tr("%1: no such evaluation text; clear the field to skip evaluation").arg(r.evalPath));
        return false;
    }
    if (tokenizerBeside(r.modelPath.toStdString()).empty()) {
        showError(tr("Start calibration"),
            tr("%1: no tokenizer beside the checkpoint; the calibration text cannot be tokenized. Put "
               "tokenizer.bin or tok*.bin (llama2.c) or tokenizer.model / tokenizer.json (Hugging Face) "
               "next to it.")
                .arg(r.modelPath));
        return false;
    }
    if (QFileInfo::exists(r.runPath) && !r.overwrite) {
        if (!m_interactive
            || QMessageBox::question(this, tr("Start calibration"), tr("%1 exists. Replace it?").arg(r.runPath))
                != QMessageBox::Yes) {
            showError(tr("Start calibration"),
                tr("%1 exists; choose another run file or tick \"Replace an existing run file\".").arg(r.runPath));
            return false;
        }
        r.overwrite = true;
    }
    PrecisionMap map;
    try {
        map = requestedMap(r);
    } catch (const std::exception &e) {
        showError(tr("Start calibration"), QString::fromUtf8(e.what()));
        return false;
    }
    r.runPath = QFileInfo(r.runPath).absoluteFilePath();
    const QString error = m_runner->start(r, m_plugins.method(r.method));
    if (!error.isEmpty()) {
        showError(tr("Start calibration"), error);
        return false;
    }
    m_display->beginLive(r.runPath, map);
    // The running calibration joins the comparison at once, its loss curve growing step by step.
    RunSummary live;
    live.path = r.runPath;
    live.method = r.method;
    live.bits = r.precisionMapPath.isEmpty() ? r.bits : QFileInfo(r.precisionMapPath).fileName();
    live.samples = r.samples;
    live.seqlen = r.seqLen;
    if (r.settings.contains(QStringLiteral("epochs")))
        live.epochs = r.settings.value(QStringLiteral("epochs")).toDouble();
    comparisonView()->addRun(live, TrainSeries {}, RangeSeries {}, {});
    m_rangeView->setSelectedSites(selected.isEmpty() ? r.watchSites : QStringList { selected });
    if (selected.isEmpty() && !r.watchSites.isEmpty())
        m_display->setCurrentSite(r.watchSites.front());
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_stageLabel->setText(tr("starting %1 on %2").arg(r.method, QFileInfo(r.modelPath).fileName()));
    setWindowTitle(tr("MQ Workbench — %1 (running)").arg(QFileInfo(r.runPath).fileName()));
    addRecentModel(r.modelPath);
    return true;
}

void MainWindow::togglePause()
{
    if (m_runner->state() == CalibrationRunner::State::Running) {
        m_runner->pause();
        m_stageLabel->setText(tr("paused after step %1").arg(m_display->lastStep()));
    } else if (m_runner->state() == CalibrationRunner::State::Paused) {
        m_runner->resume();
        m_stageLabel->setText(tr("running"));
    }
}

void MainWindow::stopCalibration()
{
    if (!m_runner->busy())
        return;
    m_runner->stop();
    m_stageLabel->setText(tr("stopping after the current step…"));
}

void MainWindow::onBatch(const EventBatch &events)
{
    m_display->applyBatch(events);
    for (const StepEvent &e : events.steps)
        comparisonView()->appendStep(m_runner->runPath(), e.step, e.loss);
    if (!events.stages.isEmpty())
        m_stageLabel->setText(events.stages.back());
    if (!events.steps.empty()) {
        const StepEvent &e = events.steps.back();
        if (e.total > 0) {
            m_progress->setRange(0, int(std::min<std::int64_t>(e.total, INT_MAX)));
            m_progress->setValue(int(std::min(e.step, e.total)));
        }
        QString text = tr("step %1 / %2, loss %3").arg(e.step).arg(e.total).arg(e.loss, 0, 'g', 4);
        if (e.layer >= 0)
            text += tr(", layer %1").arg(e.layer);
        text += tr(", ETA %1").arg(formatDuration(e.etaSeconds));
        m_stepLabel->setText(text);
    }
}

void MainWindow::onRunEnded(const RunOutcome &o)
{
    m_display->endLive();
    switch (o.status) {
    case RunOutcome::Status::Finished: {
        QString text = tr("finished after %1 steps, final loss %2").arg(o.steps).arg(o.finalLoss, 0, 'g', 4);
        if (o.evalTokens > 0)
            text += tr("; perplexity float %1, quantized %2")
                        .arg(o.fpPerplexity, 0, 'f', 4)
                        .arg(o.quantPerplexity, 0, 'f', 4);
        m_stageLabel->setText(text);
        if (m_progress->maximum() > 0)
            m_progress->setValue(m_progress->maximum());
        break;
    }
    case RunOutcome::Status::Cancelled:
        m_stageLabel->setText(tr("stopped after %1 steps; Run > Continue a stopped run… goes on from the last "
                                 "checkpoint")
                                  .arg(o.steps));
        break;
    case RunOutcome::Status::Failed:
        m_stageLabel->setText(tr("calibration failed"));
        showError(tr("Calibration failed"), o.error);
        break;
    }
    setWindowTitle(tr("MQ Workbench — %1").arg(QFileInfo(o.runPath).fileName()));
    if (QFileInfo::exists(o.runPath) && o.status != RunOutcome::Status::Failed) {
        openRun(o.runPath, false); // the run file replaces the live curve in the comparison
        if (m_devices && o.status == RunOutcome::Status::Finished)
            m_devices->setCalibrationRun(o.runPath);
    } else {
        comparisonView()->removeRun(o.runPath);
    }
    Q_EMIT runFinished(o);
}

void MainWindow::onStateChanged(CalibrationRunner::State state)
{
    m_panel->setRunState(state);
    const bool idle = state == CalibrationRunner::State::Idle;
    m_progress->setVisible(!idle);
    m_startAction->setEnabled(idle);
    m_pauseAction->setEnabled(state == CalibrationRunner::State::Running || state == CalibrationRunner::State::Paused);
    m_pauseAction->setText(state == CalibrationRunner::State::Paused ? tr("&Resume") : tr("&Pause"));
    m_stopAction->setEnabled(state == CalibrationRunner::State::Running || state == CalibrationRunner::State::Paused);
}

void MainWindow::onSiteSelection(const QString &current, const QStringList &selected)
{
    if (!current.isEmpty())
        m_display->setCurrentSite(current);
    if (!selected.isEmpty())
        m_rangeView->setSelectedSites(selected);
}

bool MainWindow::selectSite(const QString &site)
{
    if (m_sites->selectSite(site))
        return true;
    // Not in the tree (yet): still show it where the data exists.
    m_display->setCurrentSite(site);
    return false;
}

bool MainWindow::selectSites(const QStringList &sites)
{
    if (sites.isEmpty())
        return false;
    if (m_sites->selectSites(sites))
        return true;
    m_display->setCurrentSite(sites.front());
    return false;
}

SiteTreeModel *MainWindow::siteModel() const
{
    return m_sites->model();
}
RunListModel *MainWindow::runList() const
{
    return m_runsPanel->model();
}
RunComparisonView *MainWindow::comparisonView() const
{
    return m_runsPanel->comparison();
}

QStringList MainWindow::saveScreenshots(const QString &folder)
{
    QStringList files = saveWindowScreenshots(*this, folder, &m_lastError);
    // The welcome page as a first run shows it (without marking it shown in the settings).
    const bool wasVisible = m_welcome && m_welcome->isVisible();
    prepareWelcome();
    m_welcome->show();
    const QString page = saveWidgetScreenshot(*m_welcome, folder, QStringLiteral("welcome"), &m_lastError);
    if (!page.isEmpty())
        files << page;
    if (!wasVisible)
        m_welcome->hide();
    return files;
}

void MainWindow::saveSettings() const
{
    QSettings s;
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
    m_sites->saveSettings(s);
    s.setValue(QStringLiteral("inspector/threshold"), m_inspector->threshold());
    s.setValue(QStringLiteral("inspector/logCounts"), m_inspector->logCounts());
    m_panel->saveSettings(s);
}

void MainWindow::restoreSettings()
{
    QSettings s;
    restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    m_sites->restoreSettings(s);
    if (s.contains(QStringLiteral("inspector/threshold")))
        m_inspector->setThreshold(s.value(QStringLiteral("inspector/threshold")).toDouble());
    m_inspector->setLogCounts(s.value(QStringLiteral("inspector/logCounts"), false).toBool());
    m_panel->restoreSettings(s);
    refreshRecentMenu();
}

QStringList MainWindow::recentModels() const
{
    return QSettings().value(QStringLiteral("recentModels")).toStringList();
}

void MainWindow::addRecentModel(const QString &path)
{
    const QString abs = QFileInfo(path).absoluteFilePath();
    QStringList recent = recentModels();
    recent.removeAll(abs);
    recent.prepend(abs);
    while (recent.size() > kMaxRecent)
        recent.removeLast();
    QSettings().setValue(QStringLiteral("recentModels"), recent);
    refreshRecentMenu();
}

void MainWindow::refreshRecentMenu()
{
    m_recentMenu->clear();
    const QStringList recent = recentModels();
    for (const QString &path : recent)
        m_recentMenu->addAction(path, this, [this, path] { openModel(path); });
    m_recentMenu->setEnabled(!recent.isEmpty());
}

QString MainWindow::chooseModelPath()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Open model"), m_panel->modelPath(),
        tr("llama2.c checkpoints (*.bin);;Hugging Face config (config.json);;All files (*)"));
    // A Hugging Face checkpoint is its folder.
    return QFileInfo(path).fileName() == QLatin1String("config.json") ? QFileInfo(path).absolutePath() : path;
}

void MainWindow::openModelDialog()
{
    const QString path = chooseModelPath();
    if (!path.isEmpty())
        openModel(path);
}

void MainWindow::openRunDialog()
{
    const QStringList paths
        = QFileDialog::getOpenFileNames(this, tr("Open run"), QString(), tr("Run files (*.h5 *.hdf5);;All files (*)"));
    for (int i = 0; i < paths.size(); ++i)
        openRun(paths[i], i == paths.size() - 1);
}

void MainWindow::openRunFolderDialog()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a folder of run files"));
    if (!dir.isEmpty())
        openRunFolder(dir);
}

void MainWindow::resumeRunDialog()
{
    const QString path
        = QFileDialog::getOpenFileName(this, tr("Continue a stopped run"), QString(), tr("Run files (*.h5 *.hdf5)"));
    if (!path.isEmpty())
        continueRun(path);
}

bool MainWindow::continueRun(const QString &path)
{
    const QString abs = QFileInfo(path).absoluteFilePath();
    QString method;
    PrecisionMap map;
    try {
        const RunSummary summary = RunSummary::read(abs.toStdString());
        method = summary.method == QLatin1String("e2e") ? QStringLiteral("mobilequant") : summary.method;
        map = PrecisionMap::fromJson(RunReader::open(abs.toStdString()).header().precisionMapJson, abs.toStdString());
    } catch (const std::exception &e) {
        showError(tr("Continue run"), QString::fromUtf8(e.what()));
        return false;
    }
    const QString error = m_runner->resumeRun(abs, m_plugins.method(method));
    if (!error.isEmpty()) {
        showError(tr("Continue run"), error);
        return false;
    }
    m_display->beginLive(abs, map);
    m_stageLabel->setText(tr("continuing %1 from its last checkpoint").arg(QFileInfo(abs).fileName()));
    setWindowTitle(tr("MQ Workbench — %1 (running)").arg(QFileInfo(abs).fileName()));
    return true;
}

bool MainWindow::showWelcomeIfFirstRun()
{
    const QSettings s;
    if (s.value(kWelcomeShown, false).toBool() && !s.value(kWelcomeAtStartup, true).toBool())
        return false;
    showWelcome();
    return true;
}

void MainWindow::showWelcome()
{
    prepareWelcome();
    QSettings().setValue(kWelcomeShown, true);
    m_welcome->show();
    m_welcome->raise();
    m_welcome->activateWindow();
}

void MainWindow::prepareWelcome()
{
    if (!m_welcome) {
        m_welcome = new WelcomePage(this);
        connect(m_welcome, &WelcomePage::inspectRequested, this, &MainWindow::inspectSampleModel);
        connect(m_welcome, &WelcomePage::compareRequested, this, [this] { compareRuns(m_welcome->runsFolder()); });
        connect(m_welcome, &WelcomePage::benchmarkRequested, this, &MainWindow::showDevices);
        connect(m_welcome, &WelcomePage::virtualPhoneRequested, this, &MainWindow::startVirtualPhone);
        connect(m_welcome, &WelcomePage::recentModelChosen, this, [this](const QString &path) {
            if (openModel(path)) {
                focusInspection();
                closeWelcome();
            }
        });
        connect(m_welcome, &WelcomePage::sampleModelEdited, this, [this](const QString &path) {
            QSettings s;
            if (path.isEmpty())
                s.remove(kSampleModel);
            else
                s.setValue(kSampleModel, path);
            refreshWelcome();
        });
        connect(m_welcome, &WelcomePage::runsFolderEdited, this, [](const QString &folder) {
            QSettings s;
            if (folder.isEmpty())
                s.remove(kRunsFolder);
            else
                s.setValue(kRunsFolder, folder);
        });
        connect(m_welcome, &WelcomePage::showAtStartupChanged, this,
            [](bool on) { QSettings().setValue(kWelcomeAtStartup, on); });
    }
    refreshWelcome();
}

void MainWindow::refreshWelcome()
{
    const QSettings s;
    const QString configured = s.value(kSampleModel).toString();
    m_welcome->setConfiguredSampleModel(configured);
    m_welcome->setSampleSearch(findSampleModel(SampleModelPlaces::fromEnvironment(configured)));
    m_welcome->setRunsFolder(runsFolder());
    m_welcome->setRecentModels(recentModels());
    m_welcome->setShowAtStartup(s.value(kWelcomeAtStartup, true).toBool());
    m_welcome->setDeviceState(m_devices != nullptr, m_devicesListed ? m_devices->deviceModel()->rowCount() : -1);
}

void MainWindow::closeWelcome()
{
    if (m_welcome)
        m_welcome->hide();
}

QString MainWindow::runsFolder() const
{
    const QString configured = QSettings().value(kRunsFolder).toString();
    if (!configured.isEmpty())
        return configured;
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + QStringLiteral("/mq-workbench/runs");
}

bool MainWindow::inspectSampleModel()
{
    const SampleModelSearch search
        = findSampleModel(SampleModelPlaces::fromEnvironment(QSettings().value(kSampleModel).toString()));
    QString path = search.found;
    if (path.isEmpty()) {
        if (!m_interactive) {
            showError(tr("Inspect"), search.describe());
            return false;
        }
        path = chooseModelPath();
        if (path.isEmpty())
            return false;
    }
    if (!openModel(path))
        return false;
    // Fill what the form lacks so that Start records a run at once: the TinyStories sample that
    // sits beside the shared models (../../data from models/<name>/), and a new run file.
    const RunRequest r = m_panel->request();
    if (r.calibPath.isEmpty()) {
        const QString text = QFileInfo(path).absoluteDir().filePath(
            QStringLiteral("../../data/tinystories/TinyStories-valid.sample30K.txt"));
        if (QFileInfo(text).isFile())
            m_panel->setCalibPath(QDir::cleanPath(text));
    }
    if (r.runPath.isEmpty()) {
        const QString folder = runsFolder();
        QDir().mkpath(folder);
        m_panel->setRunPath(
            QDir(folder).filePath(QStringLiteral("%1-%2.h5")
                                      .arg(QFileInfo(path).completeBaseName(),
                                          QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")))));
    }
    focusInspection();
    closeWelcome();
    return true;
}

void MainWindow::focusInspection()
{
    if (auto *dock = findChild<QDockWidget *>(QStringLiteral("sitesDock"))) {
        dock->show();
        dock->raise();
    }
    QStringList candidates { kInspectSite };
    candidates << m_panel->request().watchSites;
    for (const QString &site : std::as_const(candidates))
        if (selectSite(site))
            break;
    m_sites->tree()->setFocus();
    statusBar()->showMessage(tr("Press Start (Ctrl+R) to calibrate: the outlier inspector shows the selected site as "
                                "the run records its histograms."),
        15000);
}

bool MainWindow::compareRuns(const QString &folder)
{
    QString dir = folder;
    const bool hasRuns = !dir.isEmpty()
        && !QDir(dir).entryList({ QStringLiteral("*.h5"), QStringLiteral("*.hdf5") }, QDir::Files).isEmpty();
    if (!hasRuns) {
        if (!m_interactive) {
            showError(tr("Compare runs"),
                dir.isEmpty() ? tr("Choose a runs folder first (the welcome page's Runs folder).")
                              : tr("%1 has no run files (.h5). Record runs with Start (to the form's Run file) or "
                                   "with mq calibrate --out, or choose another folder.")
                                    .arg(dir));
            return false;
        }
        dir = QFileDialog::getExistingDirectory(this, tr("Open a folder of run files"), dir);
        if (dir.isEmpty())
            return false;
    }
    const int opened = openRunFolder(dir);
    if (auto *dock = findChild<QDockWidget *>(QStringLiteral("runsDock"))) {
        dock->show();
        dock->raise();
    }
    m_runsPanel->setCurrentIndex(RunsPanel::ComparisonTab);
    if (opened == 0)
        return false;
    QSettings().setValue(kRunsFolder, QFileInfo(dir).absoluteFilePath());
    closeWelcome();
    return true;
}

bool MainWindow::showDevices()
{
    if (!m_devices) {
        showError(tr("Benchmark"),
            tr("The android-adb device plugin did not load, so there is no Devices dock; Help > Plugins says why."));
        return false;
    }
    m_devices->show();
    m_devices->raise();
    m_devices->refresh();
    closeWelcome();
    return true;
}

bool MainWindow::startVirtualPhone()
{
    if (!showDevices())
        return false;
    m_devices->startVirtualPhone();
    return true;
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (m_runner->busy() && m_interactive
        && QMessageBox::question(this, tr("Quit"),
               tr("A calibration is running. Stop it and quit? The run file keeps every step "
                  "so far; Run > Continue a stopped run… goes on later."))
            != QMessageBox::Yes) {
        event->ignore();
        return;
    }
    saveSettings();
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (event->mimeData()->hasUrls())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    QStringList paths;
    for (const QUrl &url : event->mimeData()->urls())
        if (url.isLocalFile())
            paths << url.toLocalFile();
    openPaths(paths);
    event->acceptProposedAction();
}

void MainWindow::openPaths(const QStringList &paths)
{
    for (const QString &path : paths) {
        const QFileInfo info(path);
        if (info.isDir() && !QFileInfo::exists(QDir(path).filePath(QStringLiteral("config.json"))))
            openRunFolder(path);
        else if (info.suffix() == QLatin1String("mqpkg"))
            openPackage(path);
        else if (info.suffix() == QLatin1String("h5") || info.suffix() == QLatin1String("hdf5")
            || info.suffix() == QLatin1String("mqrun"))
            openRun(path, true);
        else
            openModel(path);
    }
}

bool MainWindow::openPackage(const QString &path)
{
    if (!m_packageDialog) {
        m_packageDialog = new PackageDialog(this);
        connect(m_packageDialog, &PackageDialog::benchmarkRequested, this, [this](const QString &package) {
            if (!showDevices())
                return;
            // Only this package: nothing exported from the calibration run on this click.
            m_devices->setVariants({});
            m_devices->setPackages({ package });
            m_packageDialog->close();
        });
        connect(m_packageDialog, &PackageDialog::showRunRequested, this,
            [this](const QString &run) { openRun(run, true); });
    }
    const QString why = m_packageDialog->load(path);
    if (!why.isEmpty()) {
        showError(tr("Open package"), why);
        return false;
    }
    m_packageDialog->show();
    m_packageDialog->raise();
    m_packageDialog->activateWindow();
    return true;
}

} // namespace mq
