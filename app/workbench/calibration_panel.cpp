#include "app/workbench/calibration_panel.h"

#include "app/workbench/method_form.h"
#include "plugins/api/method_plugin.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QSettings>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace mq {

QStringList CalibrationPanel::defaultWatchSites()
{
    // The norm output feeds q/k/v and the down-projection input is the widest activation of a
    // layer (the intermediate size): where the outliers the paper talks about show first.
    return { QStringLiteral("layers.0.attn_norm.out"), QStringLiteral("layers.0.mlp.down.in") };
}

CalibrationPanel::CalibrationPanel(const QList<const QuantMethodPlugin *> &methods, QWidget *parent)
    : QWidget(parent)
    , m_methods(methods)
{
    auto *outer = new QVBoxLayout(this);
    auto *scroll = new QScrollArea;
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto *inner = new QWidget;
    m_layout = new QFormLayout(inner);
    m_layout->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    scroll->setWidget(inner);
    outer->addWidget(scroll, 1);

    m_model = pathRow(tr("Model"),
        tr("A llama2.c .bin checkpoint (with its tokenizer beside it) or a Hugging Face "
           "folder (config.json + safetensors + tokenizer)"),
        false, tr("Checkpoints (*.bin *.safetensors config.json);;All files (*)"), false);
    m_model->setObjectName(QStringLiteral("model"));
    connect(m_model, &QLineEdit::editingFinished, this, [this] { Q_EMIT modelPathChosen(m_model->text()); });
    m_modelInfo = new QLabel(tr("no model"));
    m_modelInfo->setWordWrap(true);
    m_layout->addRow(QString(), m_modelInfo);
    m_calib = pathRow(tr("Calibration text"), tr("Plain text; windows of the sequence length are sampled from it"),
        false, tr("Text (*.txt);;All files (*)"), false);
    m_eval = pathRow(tr("Evaluation text"),
        tr("Optional: float and quantized perplexity on this text after the "
           "run, for the runs table and the ablation plots"),
        false, tr("Text (*.txt);;All files (*)"), false);

    m_method = new QComboBox;
    m_method->setObjectName(QStringLiteral("method"));
    for (const QuantMethodPlugin *p : m_methods)
        m_method->addItem(p->name(), p->id());
    m_layout->addRow(tr("Method"), m_method);
    m_inputs << m_method;
    auto *settingsBox = new QGroupBox(tr("Method settings"));
    auto *settingsLayout = new QVBoxLayout(settingsBox);
    m_form = new MethodForm;
    settingsLayout->addWidget(m_form);
    m_layout->addRow(settingsBox);
    m_inputs << m_form;

    m_bits = new QComboBox;
    m_bits->setObjectName(QStringLiteral("bits"));
    m_bits->addItems({ QStringLiteral("W8A8"), QStringLiteral("W4A8"), QStringLiteral("W4A8-sym") });
    m_bits->setToolTip(tr("Weight bits with 8-bit activations; the non-linear sites stay at 16 bits (MobileQuant)"));
    m_layout->addRow(tr("Bits"), m_bits);
    m_inputs << m_bits;
    m_precisionMap = pathRow(tr("Precision map"), tr("Optional JSON (docs/precision-map.md); overrides Bits"), false,
        tr("Precision maps (*.json);;All files (*)"), false);

    m_samples = new QSpinBox;
    m_samples->setRange(1, 100000);
    m_samples->setValue(16);
    m_samples->setSuffix(tr(" windows"));
    m_layout->addRow(tr("Samples"), m_samples);
    m_seqLen = new QSpinBox;
    m_seqLen->setRange(2, 1 << 20);
    m_seqLen->setValue(128);
    m_seqLen->setSuffix(tr(" tokens"));
    m_layout->addRow(tr("Sequence length"), m_seqLen);
    m_snapshotEvery = new QSpinBox;
    m_snapshotEvery->setRange(1, 100000);
    m_snapshotEvery->setValue(10);
    m_snapshotEvery->setSuffix(tr(" steps"));
    m_snapshotEvery->setToolTip(tr("Steps between snapshots of ranges, scales, clipping and the watched sites' "
                                   "histograms (each costs one extra forward of a calibration window)"));
    m_layout->addRow(tr("Snapshot every"), m_snapshotEvery);
    m_inputs << m_samples << m_seqLen << m_snapshotEvery;

    m_watch = new QLineEdit(defaultWatchSites().join(QStringLiteral(", ")));
    m_watch->setObjectName(QStringLiteral("watch"));
    m_watch->setToolTip(tr("Comma-separated sites whose histograms and per-channel max|x| are recorded at every "
                           "snapshot; the site selected in the Sites tree is added"));
    m_layout->addRow(tr("Watched sites"), m_watch);
    m_inputs << m_watch;
    m_run = pathRow(tr("Run file"), tr("The HDF5 file the run is recorded in (docs/run-file.md)"), false,
        tr("Run files (*.h5);;All files (*)"), true);
    m_run->setObjectName(QStringLiteral("run"));
    m_overwrite = new QCheckBox(tr("Replace an existing run file"));
    m_layout->addRow(QString(), m_overwrite);
    m_inputs << m_overwrite;

    auto *buttons = new QHBoxLayout;
    m_start = new QPushButton(tr("Start"));
    m_start->setToolTip(tr("Start the calibration (Ctrl+R)"));
    m_pause = new QPushButton(tr("Pause"));
    m_pause->setToolTip(tr("Pause or resume after the current step (Ctrl+P)"));
    m_stop = new QPushButton(tr("Stop"));
    m_stop->setToolTip(tr("Stop after the current step; the run file keeps what was done (Ctrl+.)"));
    buttons->addWidget(m_start);
    buttons->addWidget(m_pause);
    buttons->addWidget(m_stop);
    outer->addLayout(buttons);
    connect(m_start, &QPushButton::clicked, this, &CalibrationPanel::startRequested);
    connect(m_pause, &QPushButton::clicked, this, &CalibrationPanel::pauseToggled);
    connect(m_stop, &QPushButton::clicked, this, &CalibrationPanel::stopRequested);

    connect(m_method, &QComboBox::currentIndexChanged, this, &CalibrationPanel::onMethodChanged);
    // The paper's method first, whatever order the plugins were found in.
    setMethod(QStringLiteral("mobilequant"));
    onMethodChanged();
    setRunState(CalibrationRunner::State::Idle);
}

QLineEdit *CalibrationPanel::pathRow(
    const QString &label, const QString &tip, bool folder, const QString &filter, bool save)
{
    auto *row = new QWidget;
    auto *h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    auto *edit = new QLineEdit;
    edit->setToolTip(tip);
    edit->setClearButtonEnabled(true);
    auto *browse = new QToolButton;
    browse->setText(QStringLiteral("…"));
    browse->setToolTip(tr("Choose…"));
    h->addWidget(edit, 1);
    h->addWidget(browse);
    connect(browse, &QToolButton::clicked, this, [this, edit, label, folder, filter, save] {
        QString path;
        if (folder)
            path = QFileDialog::getExistingDirectory(this, label, edit->text());
        else if (save)
            path = QFileDialog::getSaveFileName(this, label, edit->text(), filter);
        else
            path = QFileDialog::getOpenFileName(this, label, edit->text(), filter);
        if (path.isEmpty())
            return;
        edit->setText(path);
        if (edit == m_model)
            Q_EMIT modelPathChosen(path);
    });
    m_layout->addRow(label, row);
    m_inputs << row;
    return edit;
}

void CalibrationPanel::onMethodChanged()
{
    const QuantMethodPlugin *p = currentPlugin();
    m_form->setSpecs(p ? p->settingSpecs() : QList<SettingSpec> {});
}

const QuantMethodPlugin *CalibrationPanel::currentPlugin() const
{
    const int i = m_method->currentIndex();
    return i >= 0 && i < m_methods.size() ? m_methods[i] : nullptr;
}

static QStringList splitSites(const QString &text)
{
    QStringList out;
    for (QString s : text.split(QRegularExpression(QStringLiteral("[,\\s]+")), Qt::SkipEmptyParts))
        if (!out.contains(s))
            out << s;
    return out;
}

RunRequest CalibrationPanel::request(const QString &extraWatch) const
{
    RunRequest r;
    r.modelPath = m_model->text().trimmed();
    r.calibPath = m_calib->text().trimmed();
    r.evalPath = m_eval->text().trimmed();
    r.runPath = m_run->text().trimmed();
    if (const QuantMethodPlugin *p = currentPlugin())
        r.method = p->id();
    r.settings = m_form->values();
    r.bits = m_bits->currentText();
    r.precisionMapPath = m_precisionMap->text().trimmed();
    r.samples = m_samples->value();
    r.seqLen = m_seqLen->value();
    r.snapshotEvery = m_snapshotEvery->value();
    r.watchSites = splitSites(m_watch->text());
    if (!extraWatch.isEmpty() && !r.watchSites.contains(extraWatch))
        r.watchSites << extraWatch;
    r.overwrite = m_overwrite->isChecked();
    return r;
}

void CalibrationPanel::setModelPath(const QString &path)
{
    m_model->setText(path);
}
QString CalibrationPanel::modelPath() const
{
    return m_model->text().trimmed();
}
void CalibrationPanel::setModelInfo(const QString &text, bool ok)
{
    m_modelInfo->setText(text);
    m_modelInfo->setStyleSheet(ok ? QString() : QStringLiteral("color: #b00020"));
}
void CalibrationPanel::setCalibPath(const QString &path)
{
    m_calib->setText(path);
}
void CalibrationPanel::setEvalPath(const QString &path)
{
    m_eval->setText(path);
}
void CalibrationPanel::setRunPath(const QString &path)
{
    m_run->setText(path);
}
QString CalibrationPanel::runPath() const
{
    return m_run->text().trimmed();
}
void CalibrationPanel::setBits(const QString &bits)
{
    m_bits->setCurrentText(bits);
}
void CalibrationPanel::setPrecisionMapPath(const QString &path)
{
    m_precisionMap->setText(path);
}
void CalibrationPanel::setSamples(int samples)
{
    m_samples->setValue(samples);
}
void CalibrationPanel::setSeqLen(int seqLen)
{
    m_seqLen->setValue(seqLen);
}
void CalibrationPanel::setSnapshotEvery(int steps)
{
    m_snapshotEvery->setValue(steps);
}
void CalibrationPanel::setWatchSites(const QStringList &sites)
{
    m_watch->setText(sites.join(QStringLiteral(", ")));
}
void CalibrationPanel::setOverwrite(bool on)
{
    m_overwrite->setChecked(on);
}

bool CalibrationPanel::setMethod(const QString &id)
{
    const int i = m_method->findData(id);
    if (i < 0)
        return false;
    m_method->setCurrentIndex(i);
    return true;
}

void CalibrationPanel::setRunState(CalibrationRunner::State state)
{
    const bool idle = state == CalibrationRunner::State::Idle;
    for (QWidget *w : m_inputs)
        w->setEnabled(idle);
    m_start->setEnabled(idle);
    m_pause->setEnabled(state == CalibrationRunner::State::Running || state == CalibrationRunner::State::Paused);
    m_pause->setText(state == CalibrationRunner::State::Paused ? tr("Resume") : tr("Pause"));
    m_stop->setEnabled(!idle && state != CalibrationRunner::State::Stopping);
}

void CalibrationPanel::saveSettings(QSettings &s) const
{
    s.beginGroup(QStringLiteral("calibration"));
    s.setValue(QStringLiteral("model"), m_model->text());
    s.setValue(QStringLiteral("calib"), m_calib->text());
    s.setValue(QStringLiteral("eval"), m_eval->text());
    s.setValue(QStringLiteral("method"), m_method->currentData());
    s.setValue(QStringLiteral("bits"), m_bits->currentText());
    s.setValue(QStringLiteral("precisionMap"), m_precisionMap->text());
    s.setValue(QStringLiteral("samples"), m_samples->value());
    s.setValue(QStringLiteral("seqLen"), m_seqLen->value());
    s.setValue(QStringLiteral("snapshotEvery"), m_snapshotEvery->value());
    s.setValue(QStringLiteral("watch"), m_watch->text());
    s.setValue(QStringLiteral("run"), m_run->text());
    if (const QuantMethodPlugin *p = currentPlugin())
        s.setValue(QStringLiteral("settings/") + p->id(), m_form->values());
    s.endGroup();
}

void CalibrationPanel::restoreSettings(const QSettings &s)
{
    auto get = [&](const char *key) { return s.value(QStringLiteral("calibration/") + QLatin1String(key)); };
    if (get("model").isValid())
        m_model->setText(get("model").toString());
    if (get("calib").isValid())
        m_calib->setText(get("calib").toString());
    if (get("eval").isValid())
        m_eval->setText(get("eval").toString());
    if (get("method").isValid())
        setMethod(get("method").toString());
    if (get("bits").isValid())
        m_bits->setCurrentText(get("bits").toString());
    if (get("precisionMap").isValid())
        m_precisionMap->setText(get("precisionMap").toString());
    if (get("samples").isValid())
        m_samples->setValue(get("samples").toInt());
    if (get("seqLen").isValid())
        m_seqLen->setValue(get("seqLen").toInt());
    if (get("snapshotEvery").isValid())
        m_snapshotEvery->setValue(get("snapshotEvery").toInt());
    if (get("watch").isValid())
        m_watch->setText(get("watch").toString());
    if (get("run").isValid())
        m_run->setText(get("run").toString());
    if (const QuantMethodPlugin *p = currentPlugin()) {
        const QVariant saved = s.value(QStringLiteral("calibration/settings/") + p->id());
        if (saved.isValid()) {
            // Only settings the plugin still has, each converted to the type it expects now.
            QVariantMap values;
            const QVariantMap map = saved.toMap();
            for (const SettingSpec &spec : p->settingSpecs())
                if (map.contains(spec.key))
                    values[spec.key] = map.value(spec.key);
            m_form->setValues(values);
        }
    }
}

} // namespace mq
