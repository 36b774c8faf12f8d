#pragma once

#include "app/workbench/session_bridge.h"

#include <QObject>
#include <QString>
#include <QStringList>
#include <QVariantMap>

#include <memory>

namespace mq {

class QuantMethodPlugin;

// What the window asks to calibrate: the form's values, torch-free. The runner turns it into the
// session's config the way `mq calibrate` does (app/cli/calibrate_command.cpp).
struct RunRequest
{
    QString modelPath;
    QString tokenizerPath; // empty: found beside the checkpoint
    QString calibPath;
    QString evalPath; // optional
    QString runPath;
    QString method = QStringLiteral("mobilequant"); // plugin id
    QVariantMap settings; // the plugin's settings (SettingSpec keys); missing keys take defaults
    QString bits = QStringLiteral("W8A8");
    QString precisionMapPath; // optional; overrides bits
    int samples = 16;
    int seqLen = 128;
    quint64 seed = 1337;
    int snapshotEvery = 10;
    int checkpointEvery = 50;
    int threads = 0;
    QStringList watchSites;
    bool overwrite = false;
};

// Runs one calibration Session at a time for the window. The Session's worker thread owns the
// model and every tensor; this object lives on the GUI thread and only posts commands to it
// (pause/resume/stop return at once). Events arrive through bridge() (queued, ≤ 30 Hz).
//
// This is the one translation unit of the window that includes LibTorch headers (through
// core/calib/session.h); the header is torch-free.
class CalibrationRunner : public QObject
{
    Q_OBJECT

public:
    enum class State { Idle, Running, Paused, Stopping };
    Q_ENUM(State)

    explicit CalibrationRunner(QObject *parent = nullptr);
    ~CalibrationRunner() override; // stops and joins a running session

    // Checks the request, creates the method from `plugin` on this (the GUI) thread and starts the
    // session. Returns an empty string on success, else a message for a person (invalid
    // settings, a run already going); the session's own failures (missing tokenizer, a model
    // that does not load) arrive later as a Failed outcome.
    QString start(const RunRequest &request, const QuantMethodPlugin *plugin);
    // Continue a cancelled or killed run from its last checkpoint.
    QString resumeRun(const QString &runPath, const QuantMethodPlugin *plugin);

    void pause();
    void resume();
    void stop(); // cooperative: the worker stops within one step; the outcome says Cancelled

    State state() const { return m_state; }
    bool busy() const { return m_state != State::Idle; }
    QString runPath() const { return m_runPath; }

    SessionBridge *bridge() { return &m_bridge; }

Q_SIGNALS:
    void stateChanged(mq::CalibrationRunner::State state);
    // After the bridge's finished(), once the session is joined: the run file is complete.
    void runEnded(const mq::RunOutcome &outcome);

private:
    // Starts the prepared session's worker; on failure drops the session and returns why.
    QString startSession();
    void setState(State state);
    void onFinished(const RunOutcome &outcome);

    struct Impl;
    std::unique_ptr<Impl> m_impl;
    SessionBridge m_bridge;
    State m_state = State::Idle;
    QString m_runPath;
};

} // namespace mq
