#pragma once

#include "app/workbench/session_runner.h"

#include <QMainWindow>
#include <QString>
#include <QStringList>

class QAction;
class QDockWidget;
class QLabel;
class QMenu;
class QProgressBar;
class QTabWidget;

namespace mq {

class AblationView;
class CalibrationPanel;
class DevicesDock;
class RunsPanel;
class SiteBrowser;
class OutlierInspector;
class PluginManager;
class RangeEvolutionView;
class RunComparisonView;
class RunDisplay;
class RunListModel;
class SiteTreeModel;
class TrainingView;
class TransformScaleView;
class WeightRangeView;
class PackageDialog;
class WelcomePage;
struct EventBatch;

// The workbench window: composes the docks (calibration form, sites, outlier inspector,
// transform scales, range evolution, training, runs) and wires them to one CalibrationRunner and
// one RunDisplay. The window itself never touches a tensor or blocks: the session's worker does
// the work, the bridge delivers its events at ≤ 30 Hz.
//
// `plugins` (scanned) must outlive the window. GUI thread only.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    explicit MainWindow(PluginManager &plugins, QWidget *parent = nullptr);
    ~MainWindow() override;

    // Non-interactive windows (tests, --screenshot-dir) show errors in the status bar and
    // lastError() instead of message boxes, and ask no questions.
    void setInteractive(bool on) { m_interactive = on; }
    QString lastError() const { return m_lastError; }

    bool openModel(const QString &path);
    // Adds a run file to the runs table and the comparison, and shows it in the views.
    bool openRun(const QString &path, bool show = true);
    int openRunFolder(const QString &folder); // the number of run files opened
    // Shows what an integer model package (.mqpkg) holds (PackageDialog), from where it can be
    // benchmarked on a device or its run opened. False (lastError says why) for a bad package.
    bool openPackage(const QString &path);
    PackageDialog *packageDialog() const { return m_packageDialog; }
    // What dropping files on the window does: run files (.h5, .mqrun) and folders of them open as
    // runs, packages (.mqpkg) in the package dialog, anything else (a .bin, a Hugging Face folder)
    // as the model.
    void openPaths(const QStringList &paths);
    bool startCalibration();
    // Continues a stopped (or killed) run from the last checkpoint in its file (Run menu).
    bool continueRun(const QString &path);
    void togglePause();
    void stopCalibration();
    // Selects a site in the tree (and so in the inspector and the range view).
    bool selectSite(const QString &site);
    // Selects several sites: the first is the current one (inspector), all go to the range view.
    bool selectSites(const QStringList &sites);
    // Saves a PNG of every dock and of the whole window into `folder`; returns the files written.
    QStringList saveScreenshots(const QString &folder);

    void saveSettings() const;
    void restoreSettings();
    QStringList recentModels() const;

    // The welcome page (app/workbench/welcome_page.h), a non-modal dialog over the window. At
    // startup main() calls showWelcomeIfFirstRun(): it shows the page on the first run (QSettings
    // "welcome/shown" unset) and later unless "Don't show at startup" was ticked
    // ("welcome/showAtStartup"); returns whether it did. Windows made by tests never show it
    // unless asked. Help > Welcome calls showWelcome().
    bool showWelcomeIfFirstRun();
    void showWelcome();
    WelcomePage *welcomePage() const { return m_welcome; } // null until first shown
    // The page's three jobs; each closes the page when it did its step. Non-interactive windows
    // report what is missing instead of asking for a file or folder.
    // Inspect: opens the sample model (or asks for one), fills an empty calibration text and run
    // file, selects layers.0.mlp.down.in in the Sites tree and gives the tree the focus.
    bool inspectSampleModel();
    // Compare: opens every run file of `folder` (or asks for a folder) and shows the Comparison tab.
    bool compareRuns(const QString &folder);
    // Benchmark: shows the Devices dock and asks the back-end for its devices; false without the
    // android-adb plugin. startVirtualPhone() also starts mq-devsim (DevicesDock::startVirtualPhone).
    bool showDevices();
    bool startVirtualPhone();
    // Where the page's Compare looks and Inspect records: "welcome/runsFolder", by default
    // $XDG_DATA_HOME/mq-workbench/runs.
    QString runsFolder() const;

    CalibrationPanel *calibrationPanel() const { return m_panel; }
    CalibrationRunner *runner() const { return m_runner; }
    RunDisplay *display() const { return m_display; }
    SiteBrowser *siteBrowser() const { return m_sites; }
    SiteTreeModel *siteModel() const;
    RangeEvolutionView *rangeView() const { return m_rangeView; }
    TrainingView *trainingView() const { return m_trainingView; }
    WeightRangeView *weightView() const { return m_weightView; }
    OutlierInspector *inspector() const { return m_inspector; }
    TransformScaleView *scaleView() const { return m_scaleView; }
    RunsPanel *runsPanel() const { return m_runsPanel; }
    RunListModel *runList() const;
    RunComparisonView *comparisonView() const;
    DevicesDock *devicesDock() const { return m_devices; }
    QProgressBar *progressBar() const { return m_progress; }
    QAction *startAction() const { return m_startAction; }
    QAction *pauseAction() const { return m_pauseAction; }
    QAction *stopAction() const { return m_stopAction; }

Q_SIGNALS:
    void runFinished(const mq::RunOutcome &outcome); // after the run file was added to the runs

protected:
    void closeEvent(QCloseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void buildDocks();
    void buildMenus();
    QDockWidget *addDock(const QString &title, const QString &name, QWidget *content, Qt::DockWidgetArea area);
    void showError(const QString &title, const QString &message);
    void onBatch(const EventBatch &events);
    void onRunEnded(const RunOutcome &outcome);
    void onStateChanged(CalibrationRunner::State state);
    void onSiteSelection(const QString &current, const QStringList &selected);
    void showRunSummary(const QString &path);
    void addRecentModel(const QString &path);
    void refreshRecentMenu();
    void openRunDialog();
    void openRunFolderDialog();
    void openModelDialog();
    void resumeRunDialog();
    QString chooseModelPath();
    void prepareWelcome(); // creates the page once, then fills it from the settings
    void refreshWelcome();
    void closeWelcome();
    void focusInspection();

    PluginManager &m_plugins;
    bool m_interactive = true;
    QString m_lastError;

    CalibrationRunner *m_runner = nullptr;
    RunDisplay *m_display = nullptr;
    CalibrationPanel *m_panel = nullptr;
    SiteBrowser *m_sites = nullptr;
    OutlierInspector *m_inspector = nullptr;
    TransformScaleView *m_scaleView = nullptr;
    RangeEvolutionView *m_rangeView = nullptr;
    TrainingView *m_trainingView = nullptr;
    WeightRangeView *m_weightView = nullptr;
    QTabWidget *m_trainingTabs = nullptr;
    RunsPanel *m_runsPanel = nullptr;
    DevicesDock *m_devices = nullptr; // null without the android-adb plugin

    QLabel *m_stageLabel = nullptr;
    QLabel *m_stepLabel = nullptr;
    QProgressBar *m_progress = nullptr;
    QAction *m_startAction = nullptr;
    QAction *m_pauseAction = nullptr;
    QAction *m_stopAction = nullptr;
    QMenu *m_recentMenu = nullptr;
    QList<QDockWidget *> m_docks;
    WelcomePage *m_welcome = nullptr;
    PackageDialog *m_packageDialog = nullptr;
    bool m_devicesListed = false; // the devices dock has answered at least once
};

} // namespace mq
