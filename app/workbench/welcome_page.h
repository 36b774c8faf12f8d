#pragma once

#include <QDialog>
#include <QList>
#include <QString>
#include <QStringList>

class QCheckBox;
class QFrame;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;

namespace mq {

// The places a sample model is looked for, in order (docs/user-guide.md, "First run"):
// the path configured on the welcome page (QSettings "welcome/sampleModel"), $MQ_SAMPLE_MODEL,
// $MQ_SHARED_DIR/models/stories260K/stories260K.bin, ../shared/models/stories260K/stories260K.bin
// from the executable's folder and its two parents and from the working folder (the checkout
// keeps the shared models beside it), then $XDG_DATA_HOME/mq-workbench/models (by default
// ~/.local/share/mq-workbench/models: stories260K/stories260K.bin, else the first checkpoint there).
struct SampleModelPlaces
{
    QString configured;
    QString envSample;
    QString sharedDir;
    QStringList baseDirs; // each is tried as <base>/../shared/models/stories260K/stories260K.bin
    QString userModels;

    // The places for this process: environment, executable and working folder, data home.
    static SampleModelPlaces fromEnvironment(const QString &configured);
};

struct SampleModelSearch
{
    QString found; // absolute path of a checkpoint (a .bin file or a Hugging Face folder), or empty
    QString foundVia; // which place it came from ("MQ_SHARED_DIR", "configured on this page", …)
    QStringList looked; // every place looked at, "path (why)", in order, up to and including the find
    QString problem; // a configured path ($MQ_SAMPLE_MODEL or the page's) that does not exist

    // For a person: where the sample model is, or every place looked and what to do.
    QString describe() const;
};

// Pure: only reads the file system.
SampleModelSearch findSampleModel(const SampleModelPlaces &places);

// The first-run page: the workbench's three jobs (inspect activation outliers, compare
// calibration ablations, benchmark on a phone), one button each that does the first step, the
// sample model and runs folder they use, the recent models, and "Don't show at startup".
//
// A non-modal dialog over the main window rather than its central widget: the central area is
// the outlier inspector, about 475 px wide on a 1280x800 screen with the default docks; a start
// page there would squeeze three columns of text into it and change the layout the window
// saves. Choosing a job closes the page; Help > Welcome brings it back.
//
// It only shows values and emits requests; MainWindow does the jobs and keeps the settings.
// GUI thread only.
class WelcomePage : public QDialog
{
    Q_OBJECT

public:
    explicit WelcomePage(QWidget *parent = nullptr);

    void setSampleSearch(const SampleModelSearch &search);
    QString sampleStatusText() const;
    void setConfiguredSampleModel(const QString &path);
    QString configuredSampleModel() const;
    void setRunsFolder(const QString &folder);
    QString runsFolder() const;
    void setRecentModels(const QStringList &paths);
    // The benchmark card: whether a device back-end loaded, and how many devices it listed (-1:
    // not asked yet). "Start a virtual phone" is offered while no device is listed.
    void setDeviceState(bool backendLoaded, int devices);
    void setShowAtStartup(bool on);
    bool showAtStartup() const;

    QPushButton *inspectButton() const { return m_inspect; }
    QPushButton *compareButton() const { return m_compare; }
    QPushButton *benchmarkButton() const { return m_benchmark; }
    QPushButton *virtualPhoneButton() const { return m_virtualPhone; }
    QListWidget *recentList() const { return m_recent; }
    QCheckBox *dontShowBox() const { return m_dontShow; }

Q_SIGNALS:
    void inspectRequested();
    void compareRequested();
    void benchmarkRequested();
    void virtualPhoneRequested();
    void recentModelChosen(const QString &path);
    void sampleModelEdited(const QString &path); // typed or browsed
    void runsFolderEdited(const QString &folder);
    void showAtStartupChanged(bool on);

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    QList<QFrame *> m_cards;
    QLineEdit *m_sample = nullptr;
    QLabel *m_sampleStatus = nullptr;
    QLineEdit *m_runs = nullptr;
    QListWidget *m_recent = nullptr;
    QLabel *m_deviceStatus = nullptr;
    QCheckBox *m_dontShow = nullptr;
    QPushButton *m_inspect = nullptr;
    QPushButton *m_compare = nullptr;
    QPushButton *m_benchmark = nullptr;
    QPushButton *m_virtualPhone = nullptr;
};

} // namespace mq
