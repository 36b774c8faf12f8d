#include "app/workbench/welcome_page.h"

#include <QCheckBox>
#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QDir>
#include <QDirIterator>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFrame>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSet>
#include <QStandardPaths>
#include <QVBoxLayout>

#include <utility>

namespace mq {

namespace {

const QString kStoriesPath = QStringLiteral("models/stories260K/stories260K.bin");

// The first checkpoint in a folder of models: a llama2.c .bin or a Hugging Face folder
// (config.json), at most two levels down, in name order so the choice is stable.
QString firstCheckpointIn(const QString &folder)
{
    QStringList candidates;
    QDirIterator it(
        folder, { QStringLiteral("*.bin"), QStringLiteral("config.json") }, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        if (QDir(folder).relativeFilePath(path).count(QLatin1Char('/')) > 2)
            continue;
        const QFileInfo info(path);
        // A tokenizer is a .bin too (tokenizer.bin, tok512.bin): not a checkpoint.
        if (info.fileName().startsWith(QLatin1String("tok")))
            continue;
        candidates << (info.fileName() == QLatin1String("config.json") ? info.absolutePath() : path);
    }
    candidates.sort();
    return candidates.isEmpty() ? QString() : candidates.front();
}

QLabel *wrappedLabel(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);
    return label;
}

QFont scaledFont(const QFont &base, double factor, bool bold)
{
    QFont f = base;
    f.setPointSizeF(base.pointSizeF() * factor);
    f.setBold(bold);
    return f;
}

} // namespace

SampleModelPlaces SampleModelPlaces::fromEnvironment(const QString &configured)
{
    SampleModelPlaces p;
    p.configured = configured;
    p.envSample = qEnvironmentVariable("MQ_SAMPLE_MODEL");
    p.sharedDir = qEnvironmentVariable("MQ_SHARED_DIR");
    // A build puts the executable in <checkout>/build/bin and an installation in <prefix>/bin;
    // the shared models sit beside the checkout (README), so try the folder and two parents.
    QDir dir(QCoreApplication::applicationDirPath());
    for (int up = 0; up < 3; ++up) {
        p.baseDirs << dir.absolutePath();
        if (!dir.cdUp())
            break;
    }
    p.baseDirs << QDir::currentPath();
    p.userModels = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation)
        + QStringLiteral("/mq-workbench/models");
    return p;
}

SampleModelSearch findSampleModel(const SampleModelPlaces &places)
{
    SampleModelSearch s;
    QSet<QString> seen;
    auto consider = [&](const QString &path, const QString &why) {
        if (!s.found.isEmpty() || path.isEmpty())
            return;
        const QString clean = QDir::cleanPath(QFileInfo(path).absoluteFilePath());
        if (seen.contains(clean))
            return;
        seen << clean;
        s.looked << QStringLiteral("%1 (%2)").arg(clean, why);
        if (QFileInfo::exists(clean)) {
            s.found = clean;
            s.foundVia = why;
        }
    };
    auto configured = [&](const QString &path, const QString &why) {
        if (path.isEmpty() || !s.found.isEmpty())
            return;
        consider(path, why);
        if (s.found.isEmpty() && s.problem.isEmpty())
            s.problem = QCoreApplication::translate("mq::WelcomePage", "The sample model %1 (%2) does not exist.")
                            .arg(path, why);
    };
    configured(places.configured, QCoreApplication::translate("mq::WelcomePage", "configured on the welcome page"));
    if (places.envSample.isEmpty() && s.found.isEmpty())
        s.looked << QCoreApplication::translate("mq::WelcomePage", "$MQ_SAMPLE_MODEL (not set)");
    configured(places.envSample, QStringLiteral("MQ_SAMPLE_MODEL"));
    if (places.sharedDir.isEmpty()) {
        if (s.found.isEmpty())
            s.looked << QCoreApplication::translate("mq::WelcomePage", "$MQ_SHARED_DIR/%1 (not set)").arg(kStoriesPath);
    } else {
        consider(QDir(places.sharedDir).filePath(kStoriesPath), QStringLiteral("MQ_SHARED_DIR"));
    }
    for (const QString &base : places.baseDirs)
        consider(QDir(base).filePath(QStringLiteral("../shared/") + kStoriesPath),
            QCoreApplication::translate("mq::WelcomePage", "../shared from %1").arg(QDir::cleanPath(base)));
    if (!places.userModels.isEmpty() && s.found.isEmpty()) {
        const QString why = QCoreApplication::translate("mq::WelcomePage", "your models folder");
        consider(QDir(places.userModels).filePath(QStringLiteral("stories260K/stories260K.bin")), why);
        if (s.found.isEmpty()) {
            const QString any = firstCheckpointIn(places.userModels);
            if (!any.isEmpty()) {
                s.found = any;
                s.foundVia = why;
            } else {
                s.looked << QCoreApplication::translate(
                    "mq::WelcomePage", "%1/ (your models folder: any .bin checkpoint or Hugging Face folder)")
                                .arg(QDir::cleanPath(places.userModels));
            }
        }
    }
    return s;
}

QString SampleModelSearch::describe() const
{
    auto tr = [](const char *text) { return QCoreApplication::translate("mq::WelcomePage", text); };
    if (!found.isEmpty()) {
        QString text = tr("Sample model: %1 (found via %2).").arg(found, foundVia);
        if (!problem.isEmpty())
            text.prepend(problem + QLatin1Char(' '));
        return text;
    }
    QString text;
    if (!problem.isEmpty())
        text = problem + QLatin1Char('\n');
    text += tr("No sample model found. Looked in:");
    for (const QString &place : looked)
        text += QStringLiteral("\n  • ") + place;
    text += QLatin1Char('\n')
        + tr("Type or browse a checkpoint above, set MQ_SAMPLE_MODEL or MQ_SHARED_DIR, or put one in the "
             "models folder; Inspect then asks for a model instead.");
    return text;
}

WelcomePage::WelcomePage(QWidget *parent)
    : QDialog(parent)
{
    setObjectName(QStringLiteral("welcomePage"));
    setWindowTitle(tr("Welcome to MQ Workbench"));
    setModal(false);

    auto *root = new QVBoxLayout(this);
    root->setContentsMargins(28, 24, 28, 18);
    root->setSpacing(14);

    auto *title = new QLabel(tr("Welcome to MQ Workbench"), this);
    title->setFont(scaledFont(font(), 1.8, true));
    root->addWidget(title);
    root->addWidget(wrappedLabel(
        tr("Quantize small language models for phones with MobileQuant (W8A8 / W4A8) and see what quantization does "
           "inside them. Pick one of the three jobs below: its button takes the first step for you."),
        this));

    // One card per job: a heading, a few sentences, and its button(s) at the bottom.
    auto *cards = new QHBoxLayout;
    cards->setSpacing(16);
    auto card
        = [this, cards](const QString &heading, const QString &text, QLabel **extra, const QStringList &buttonLabels) {
              auto *frame = new QFrame(this);
              frame->setFrameShape(QFrame::StyledPanel);
              frame->setAutoFillBackground(true);
              frame->setBackgroundRole(QPalette::Base);
              auto *v = new QVBoxLayout(frame);
              v->setContentsMargins(16, 14, 16, 14);
              v->setSpacing(10);
              auto *h = new QLabel(heading, frame);
              h->setFont(scaledFont(font(), 1.25, true));
              h->setWordWrap(true);
              v->addWidget(h);
              v->addWidget(wrappedLabel(text, frame));
              if (extra) {
                  *extra = wrappedLabel(QString(), frame);
                  v->addWidget(*extra);
              }
              v->addStretch(1);
              QList<QPushButton *> buttons;
              for (const QString &label : buttonLabels) {
                  buttons << new QPushButton(label, frame);
                  v->addWidget(buttons.back());
              }
              m_cards << frame;
              cards->addWidget(frame, 1);
              return buttons;
          };
    m_inspect = card(tr("1 · Inspect activation outliers"),
        tr("Open a model and pick an activation site in the Sites tree. The outlier inspector shows the float "
           "values entering the quantizer against its 8-bit range and grid, the clipped mass, and which "
           "channels are outliers, before and after the learned transform. Histograms are recorded while "
           "a calibration runs: after opening, press Start (Ctrl+R)."),
        nullptr, { tr("&Inspect the sample model") })
                    .front();
    m_compare = card(tr("2 · Compare calibrations"),
        tr("Calibrate block-wise and end-to-end (choose the method in the form, Start again), or open run "
           "files that mq calibrate wrote. The Runs table lists method, samples, steps, loss and "
           "perplexity; Comparison overlays the loss curves; Ablation (Table 2) plots perplexity against "
           "calibration samples and training length."),
        nullptr, { tr("&Compare the runs folder") })
                    .front();
    const QList<QPushButton *> benchmark = card(tr("3 · Benchmark on a phone"),
        tr("Export a run as integer packages and measure prompt and decode latency and energy on a phone "
           "over adb with one click: A16 against W8A8 and W4A8. No phone? The virtual phone (mq-devsim) "
           "runs the same protocol on this computer; its power figures are simulated."),
        &m_deviceStatus, { tr("Show the &Devices dock"), tr("Start a &virtual phone") });
    m_benchmark = benchmark[0];
    m_virtualPhone = benchmark[1];
    root->addLayout(cards, 1); // spare height goes to the cards: word-wrapped text must never clip

    auto *bottom = new QHBoxLayout;
    bottom->setSpacing(16);
    auto *where = new QGroupBox(tr("Sample model and runs"), this);
    auto *form = new QFormLayout(where);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    auto pathRow = [this, where, form](const QString &label, const QString &placeholder, bool folder) {
        auto *edit = new QLineEdit(where);
        edit->setPlaceholderText(placeholder);
        edit->setClearButtonEnabled(true);
        auto *browse = new QPushButton(tr("Browse…"), where);
        auto *row = new QHBoxLayout;
        row->addWidget(edit, 1);
        row->addWidget(browse);
        auto *caption = new QLabel(label, where);
        caption->setBuddy(edit); // the label's underlined letter focuses the field
        form->addRow(caption, row);
        connect(browse, &QPushButton::clicked, this, [this, edit, folder] {
            const QString chosen = folder
                ? QFileDialog::getExistingDirectory(this, tr("Runs folder"), edit->text())
                : QFileDialog::getOpenFileName(this, tr("Sample model"), edit->text(),
                    tr("llama2.c checkpoints (*.bin);;Hugging Face config (config.json);;All files (*)"));
            if (chosen.isEmpty())
                return;
            const QFileInfo info(chosen);
            edit->setText(info.fileName() == QLatin1String("config.json") ? info.absolutePath() : chosen);
            Q_EMIT edit->editingFinished();
        });
        return edit;
    };
    m_sample = pathRow(tr("&Sample model:"), tr("found automatically (see below)"), false);
    m_sample->setObjectName(QStringLiteral("sampleModel"));
    m_sampleStatus = wrappedLabel(QString(), where);
    m_sampleStatus->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(m_sampleStatus);
    m_runs = pathRow(tr("&Runs folder:"), tr("a folder of run files (.h5)"), true);
    m_runs->setObjectName(QStringLiteral("runsFolder"));
    bottom->addWidget(where, 3);

    auto *recentBox = new QGroupBox(tr("Recent models"), this);
    auto *recentLayout = new QVBoxLayout(recentBox);
    m_recent = new QListWidget(recentBox);
    m_recent->setToolTip(tr("Enter or double-click opens the model"));
    m_recent->setMinimumHeight(90);
    m_recent->setMaximumHeight(120);
    recentLayout->addWidget(m_recent);
    bottom->addWidget(recentBox, 2);
    root->addLayout(bottom);

    auto *footer = new QHBoxLayout;
    m_dontShow = new QCheckBox(tr("Don't show at start&up (Help > Welcome shows this page again)"), this);
    footer->addWidget(m_dontShow);
    footer->addStretch(1);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    footer->addWidget(buttons);
    root->addLayout(footer);

    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_inspect, &QPushButton::clicked, this, &WelcomePage::inspectRequested);
    connect(m_compare, &QPushButton::clicked, this, &WelcomePage::compareRequested);
    connect(m_benchmark, &QPushButton::clicked, this, &WelcomePage::benchmarkRequested);
    connect(m_virtualPhone, &QPushButton::clicked, this, &WelcomePage::virtualPhoneRequested);
    connect(m_recent, &QListWidget::itemActivated, this, [this](QListWidgetItem *item) {
        const QString path = item->data(Qt::UserRole).toString();
        if (!path.isEmpty())
            Q_EMIT recentModelChosen(path);
    });
    connect(
        m_sample, &QLineEdit::editingFinished, this, [this] { Q_EMIT sampleModelEdited(m_sample->text().trimmed()); });
    connect(m_runs, &QLineEdit::editingFinished, this, [this] { Q_EMIT runsFolderEdited(m_runs->text().trimmed()); });
    connect(m_dontShow, &QCheckBox::toggled, this, [this](bool on) { Q_EMIT showAtStartupChanged(!on); });

    setRecentModels({});
    setDeviceState(false, -1);
    m_inspect->setFocus();
    // Wide enough for three cards of readable line length; as tall as the text needs (about
    // 600 px with the default font), so it fits on a 1280x800 screen with room to spare.
    resize(1000, 640);
}

void WelcomePage::resizeEvent(QResizeEvent *event)
{
    QDialog::resizeEvent(event);
    // A top-level layout does not reserve the height that word-wrapped text needs at its actual
    // width, so a narrow card would clip its text: pin each card's minimum to that height.
    for (QFrame *card : std::as_const(m_cards)) {
        const int needed = card->heightForWidth(card->width());
        if (needed > 0 && needed != card->minimumHeight())
            card->setMinimumHeight(needed);
    }
}

void WelcomePage::setSampleSearch(const SampleModelSearch &search)
{
    m_sampleStatus->setText(search.describe());
    m_inspect->setText(search.found.isEmpty() ? tr("&Inspect a model…") : tr("&Inspect the sample model"));
    m_inspect->setToolTip(
        search.found.isEmpty() ? tr("No sample model found: asks for a checkpoint") : tr("Opens %1").arg(search.found));
}

QString WelcomePage::sampleStatusText() const
{
    return m_sampleStatus->text();
}

void WelcomePage::setConfiguredSampleModel(const QString &path)
{
    m_sample->setText(path);
}

QString WelcomePage::configuredSampleModel() const
{
    return m_sample->text().trimmed();
}

void WelcomePage::setRunsFolder(const QString &folder)
{
    m_runs->setText(folder);
    m_compare->setToolTip(tr("Opens every run file in %1 into the Runs table and shows the comparison").arg(folder));
}

QString WelcomePage::runsFolder() const
{
    return m_runs->text().trimmed();
}

void WelcomePage::setRecentModels(const QStringList &paths)
{
    m_recent->clear();
    for (const QString &path : paths) {
        auto *item = new QListWidgetItem(QFileInfo(path).fileName(), m_recent);
        item->setData(Qt::UserRole, path);
        item->setToolTip(path);
        item->setText(QStringLiteral("%1 — %2").arg(QFileInfo(path).fileName(), QFileInfo(path).absolutePath()));
    }
    if (paths.isEmpty()) {
        auto *item = new QListWidgetItem(tr("No recent models yet"), m_recent);
        item->setFlags(Qt::NoItemFlags);
    } else {
        m_recent->setCurrentRow(0);
    }
}

void WelcomePage::setDeviceState(bool backendLoaded, int devices)
{
    m_benchmark->setEnabled(backendLoaded);
    m_virtualPhone->setEnabled(backendLoaded);
    m_virtualPhone->setVisible(!backendLoaded || devices <= 0);
    if (!backendLoaded)
        m_deviceStatus->setText(
            tr("The android-adb device plugin did not load, so there is no Devices dock (Help > Plugins says why)."));
    else if (devices < 0)
        m_deviceStatus->setText(tr("No devices listed yet: the Devices dock looks for phones over adb."));
    else if (devices == 0)
        m_deviceStatus->setText(tr("adb lists no device: connect a phone with USB debugging on, or start the "
                                   "virtual phone."));
    else
        m_deviceStatus->setText(tr("%n device(s) listed by adb.", nullptr, devices));
}

void WelcomePage::setShowAtStartup(bool on)
{
    m_dontShow->setChecked(!on);
}

bool WelcomePage::showAtStartup() const
{
    return !m_dontShow->isChecked();
}

} // namespace mq
