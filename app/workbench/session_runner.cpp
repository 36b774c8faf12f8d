#include "app/workbench/session_runner.h"

// The window's only LibTorch translation unit (session.h brings ATen).
#include "core/calib/session.h"
#include "core/util/error.h"
#include "plugins/api/method_plugin.h"

#include <QFileInfo>

namespace mq {

namespace {

// Forwards the session's events to the bridge; runs on the worker thread.
class BridgeListener : public SessionListener
{
public:
    BridgeListener(SessionBridge *bridge, QString runPath)
        : m_bridge(bridge)
        , m_runPath(std::move(runPath))
    {
    }
    void stage(const std::string &what) override { m_bridge->stage(what); }
    void step(const StepEvent &e) override { m_bridge->step(e); }
    void snapshot(const SnapshotEvent &e) override { m_bridge->snapshot(e); }
    void checkpoint(int64_t step, const std::map<std::string, std::vector<float>> &state,
        const std::map<std::string, std::vector<int64_t>> &shapes) override
    {
        m_bridge->checkpoint(step, state, shapes);
    }
    void finished(const SessionResult &r) override
    {
        RunOutcome o;
        o.status = r.status == SessionResult::Status::Finished ? RunOutcome::Status::Finished
            : r.status == SessionResult::Status::Cancelled     ? RunOutcome::Status::Cancelled
                                                               : RunOutcome::Status::Failed;
        o.error = QString::fromStdString(r.error);
        o.steps = r.steps;
        o.finalLoss = r.finalLoss;
        o.fpPerplexity = r.fpPerplexity;
        o.quantPerplexity = r.quantPerplexity;
        o.evalTokens = r.evalTokens;
        o.runPath = m_runPath;
        m_bridge->finish(o);
    }

private:
    SessionBridge *m_bridge;
    QString m_runPath;
};

// The plugin settings the engine's TrainSettings hold, under the keys the built-in plugins use
// (plugins/methods/train_settings_spec.cpp), so the run file's config records them.
void applyTrainSettings(TrainSettings &t, const QVariantMap &s)
{
    auto number = [&](const char *key, double &field) {
        if (s.contains(QLatin1String(key)))
            field = s.value(QLatin1String(key)).toDouble();
    };
    auto flag = [&](const char *key, bool &field) {
        if (s.contains(QLatin1String(key)))
            field = s.value(QLatin1String(key)).toBool();
    };
    if (s.contains(QStringLiteral("epochs")))
        t.epochs = s.value(QStringLiteral("epochs")).toInt();
    flag("let", t.let);
    flag("lwc", t.lwc);
    flag("lrl", t.lrl);
    flag("checkpoint-layers", t.checkpointLayers);
    number("let-lr", t.letLr);
    number("let-min-lr", t.letMinLr);
    number("lwc-lr", t.lwcLr);
    number("lwc-min-lr", t.lwcMinLr);
    number("lrl-lr", t.lrlLr);
    number("lrl-min-lr", t.lrlMinLr);
    number("alpha", t.alpha);
}

// The reverse, for a resumed run whose settings come from its file's config.
QVariantMap settingsFromTrain(const QuantMethodPlugin &plugin, const TrainSettings &t)
{
    QVariantMap s;
    for (const SettingSpec &spec : plugin.settingSpecs()) {
        const QString &k = spec.key;
        if (k == QLatin1String("epochs"))
            s[k] = t.epochs;
        else if (k == QLatin1String("let"))
            s[k] = t.let;
        else if (k == QLatin1String("lwc"))
            s[k] = t.lwc;
        else if (k == QLatin1String("lrl"))
            s[k] = t.lrl;
        else if (k == QLatin1String("checkpoint-layers"))
            s[k] = t.checkpointLayers;
        else if (k == QLatin1String("let-lr"))
            s[k] = t.letLr;
        else if (k == QLatin1String("let-min-lr"))
            s[k] = t.letMinLr;
        else if (k == QLatin1String("lwc-lr"))
            s[k] = t.lwcLr;
        else if (k == QLatin1String("lwc-min-lr"))
            s[k] = t.lwcMinLr;
        else if (k == QLatin1String("lrl-lr"))
            s[k] = t.lrlLr;
        else if (k == QLatin1String("lrl-min-lr"))
            s[k] = t.lrlMinLr;
        else if (k == QLatin1String("alpha"))
            s[k] = t.alpha;
    }
    return s;
}

} // namespace

struct CalibrationRunner::Impl
{
    std::unique_ptr<BridgeListener> listener;
    std::unique_ptr<Session> session;
};

CalibrationRunner::CalibrationRunner(QObject *parent)
    : QObject(parent)
    , m_impl(std::make_unique<Impl>())
{
    qRegisterMetaType<mq::CalibrationRunner::State>();
    connect(&m_bridge, &SessionBridge::finished, this, &CalibrationRunner::onFinished);
}

CalibrationRunner::~CalibrationRunner()
{
    // The worker calls the bridge until it is joined: join before the bridge goes.
    m_impl.reset();
}

namespace {

// A method made on the GUI thread (the plugin's thread) and handed to the session's worker.
Session::MethodFactory preparedFactory(std::shared_ptr<std::unique_ptr<CalibrationMethod>> prepared)
{
    return [prepared](const SessionConfig &c) -> std::unique_ptr<CalibrationMethod> {
        if (!*prepared)
            throw Error("the calibration method '" + c.method + "' was already used by this session");
        return std::move(*prepared);
    };
}

} // namespace

QString CalibrationRunner::start(const RunRequest &r, const QuantMethodPlugin *plugin)
{
    if (busy())
        return tr("A calibration is already running; stop it first.");
    if (!plugin)
        return tr("No method plugin named \"%1\" was found; see Help > Plugins for the ones that loaded.")
            .arg(r.method);
    const QStringList problems = plugin->validateSettings(r.settings);
    if (!problems.isEmpty())
        return tr("The settings of %1 are not valid:\n%2").arg(plugin->name(), problems.join(QLatin1Char('\n')));

    SessionConfig c;
    c.modelPath = r.modelPath.toStdString();
    c.tokenizerPath = r.tokenizerPath.toStdString();
    c.method = plugin->id().toStdString();
    c.bits = r.bits.toStdString();
    c.precisionMapPath = r.precisionMapPath.toStdString();
    c.calibPath = r.calibPath.toStdString();
    c.samples = r.samples;
    c.seqLen = r.seqLen;
    c.seed = r.seed;
    c.train.alpha = -1; // per model unless the method's form sets it
    applyTrainSettings(c.train, withDefaults(plugin->settingSpecs(), r.settings));
    c.snapshotEvery = r.snapshotEvery;
    c.checkpointEvery = r.checkpointEvery;
    c.threads = r.threads;
    for (const QString &s : r.watchSites)
        c.watchSites.push_back(s.toStdString());
    c.runPath = r.runPath.toStdString();
    c.overwrite = r.overwrite;
    c.evalPath = r.evalPath.toStdString();

    auto prepared = std::make_shared<std::unique_ptr<CalibrationMethod>>(plugin->createMethod(r.settings));
    m_impl->listener = std::make_unique<BridgeListener>(&m_bridge, r.runPath);
    m_impl->session = std::make_unique<Session>(c, m_impl->listener.get());
    m_impl->session->setMethodFactory(preparedFactory(prepared));
    m_runPath = r.runPath;
    return startSession();
}

QString CalibrationRunner::resumeRun(const QString &runPath, const QuantMethodPlugin *plugin)
{
    if (busy())
        return tr("A calibration is already running; stop it first.");
    std::unique_ptr<Session> session;
    auto listener = std::make_unique<BridgeListener>(&m_bridge, runPath);
    try {
        session = Session::resumeFrom(runPath.toStdString(), listener.get());
    } catch (const std::exception &e) {
        return QString::fromStdString(e.what());
    }
    const QString method = QString::fromStdString(session->config().method);
    if (!plugin
        || (plugin->id() != method
            && !(method == QLatin1String("e2e") && plugin->id() == QLatin1String("mobilequant"))))
        return tr("%1 was made with the method \"%2\", and no plugin with that id is loaded.").arg(runPath, method);
    auto prepared = std::make_shared<std::unique_ptr<CalibrationMethod>>(
        plugin->createMethod(settingsFromTrain(*plugin, session->config().train)));
    session->setMethodFactory(preparedFactory(prepared));
    m_impl->listener = std::move(listener);
    m_impl->session = std::move(session);
    m_runPath = runPath;
    return startSession();
}

QString CalibrationRunner::startSession()
{
    try {
        m_impl->session->start();
    } catch (const std::exception &e) {
        m_impl->session.reset();
        return QString::fromStdString(e.what());
    }
    setState(State::Running);
    return {};
}

void CalibrationRunner::pause()
{
    if (m_state != State::Running)
        return;
    m_impl->session->pause();
    setState(State::Paused);
}

void CalibrationRunner::resume()
{
    if (m_state != State::Paused)
        return;
    m_impl->session->resume();
    setState(State::Running);
}

void CalibrationRunner::stop()
{
    if (m_state != State::Running && m_state != State::Paused)
        return;
    m_impl->session->cancel();
    setState(State::Stopping);
}

void CalibrationRunner::setState(State state)
{
    if (state == m_state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void CalibrationRunner::onFinished(const RunOutcome &outcome)
{
    // finished() is the worker's last call, so this join is immediate.
    if (m_impl->session)
        m_impl->session->wait();
    m_impl->session.reset();
    m_impl->listener.reset();
    setState(State::Idle);
    Q_EMIT runEnded(outcome);
}

} // namespace mq
