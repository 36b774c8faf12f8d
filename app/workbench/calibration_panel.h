#pragma once

#include "app/workbench/session_runner.h"

#include <QList>
#include <QString>
#include <QWidget>

class QCheckBox;
class QFormLayout;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSettings;
class QSpinBox;

namespace mq {

class MethodForm;
class QuantMethodPlugin;

// The calibration form of the window: checkpoint, calibration and evaluation text, method and
// its settings (a MethodForm from the plugin's SettingSpec list), bits or a precision map,
// samples and sequence length, watched sites, run file; Start / Pause / Stop buttons. It only
// collects values and emits requests; the window runs the session. GUI thread only.
class CalibrationPanel : public QWidget
{
    Q_OBJECT

public:
    // The default watched sites: the widest activations of the first layer.
    static QStringList defaultWatchSites();

    // `methods`: the loaded method plugins (they outlive the panel: plugins are never unloaded).
    explicit CalibrationPanel(const QList<const QuantMethodPlugin *> &methods, QWidget *parent = nullptr);

    // The values as the runner takes them; `extraWatch` (the site selected in the tree) is added
    // to the watched sites when it is not listed.
    RunRequest request(const QString &extraWatch = {}) const;
    const QuantMethodPlugin *currentPlugin() const;

    void setModelPath(const QString &path);
    QString modelPath() const;
    void setModelInfo(const QString &text, bool ok);
    void setCalibPath(const QString &path);
    void setEvalPath(const QString &path);
    void setRunPath(const QString &path);
    QString runPath() const;
    bool setMethod(const QString &id); // false when no plugin has that id
    void setBits(const QString &bits); // W8A8, W4A8, W4A8-sym
    void setPrecisionMapPath(const QString &path);
    void setSamples(int samples);
    void setSeqLen(int seqLen);
    void setSnapshotEvery(int steps);
    void setWatchSites(const QStringList &sites);
    void setOverwrite(bool on);
    MethodForm *methodForm() const { return m_form; }

    // Enables the fields and buttons for the runner's state.
    void setRunState(CalibrationRunner::State state);

    void saveSettings(QSettings &settings) const;
    void restoreSettings(const QSettings &settings);

    QPushButton *startButton() const { return m_start; }
    QPushButton *pauseButton() const { return m_pause; }
    QPushButton *stopButton() const { return m_stop; }

Q_SIGNALS:
    void modelPathChosen(const QString &path); // edited or browsed (not set programmatically)
    void startRequested();
    void pauseToggled();
    void stopRequested();

private:
    void onMethodChanged();
    QLineEdit *pathRow(const QString &label, const QString &tip, bool folder, const QString &filter, bool save);

    QList<const QuantMethodPlugin *> m_methods;
    QLineEdit *m_model = nullptr;
    QLabel *m_modelInfo = nullptr;
    QLineEdit *m_calib = nullptr;
    QLineEdit *m_eval = nullptr;
    QComboBox *m_method = nullptr;
    MethodForm *m_form = nullptr;
    QComboBox *m_bits = nullptr;
    QLineEdit *m_precisionMap = nullptr;
    QSpinBox *m_samples = nullptr;
    QSpinBox *m_seqLen = nullptr;
    QSpinBox *m_snapshotEvery = nullptr;
    QLineEdit *m_watch = nullptr;
    QLineEdit *m_run = nullptr;
    QCheckBox *m_overwrite = nullptr;
    QPushButton *m_start = nullptr;
    QPushButton *m_pause = nullptr;
    QPushButton *m_stop = nullptr;
    QFormLayout *m_layout = nullptr;
    QList<QWidget *> m_inputs; // disabled while a run is going
};

} // namespace mq
