#include "app/workbench/runs_panel.h"

#include "app/workbench/export_actions.h"
#include "widgets/ablation_view.h"
#include "widgets/run_comparison_view.h"
#include "widgets/run_list_model.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

namespace mq {

RunsPanel::RunsPanel(QWidget *parent)
    : QTabWidget(parent)
    , m_runs(new RunListModel(this))
{
    auto *page = new QWidget;
    auto *layout = new QVBoxLayout(page);
    layout->setContentsMargins(2, 2, 2, 2);
    auto *buttons = new QHBoxLayout;
    auto *openRun = new QPushButton(tr("Open run…"));
    auto *openFolder = new QPushButton(tr("Open folder…"));
    auto *remove = new QPushButton(tr("Remove"));
    auto *csv = new QPushButton(tr("Export CSV…"));
    for (QPushButton *b : { openRun, openFolder, remove, csv })
        buttons->addWidget(b);
    buttons->addStretch(1);
    layout->addLayout(buttons);
    m_table = new QTableView;
    m_table->setModel(m_runs);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->hide();
    m_table->setToolTip(tr("Double-click a run to show it in the analysis views"));
    layout->addWidget(m_table, 1);
    attachTableExport(m_table, [this] { return m_runs->toCsv(); });

    m_comparison = new RunComparisonView;
    m_ablation = new AblationView;
    addTab(page, tr("Runs"));
    addTab(m_comparison, tr("Comparison"));
    addTab(m_ablation, tr("Ablation (Table 2)"));

    connect(openRun, &QPushButton::clicked, this, &RunsPanel::openRunRequested);
    connect(openFolder, &QPushButton::clicked, this, &RunsPanel::openFolderRequested);
    connect(remove, &QPushButton::clicked, this, [this] {
        const QModelIndex i = m_table->currentIndex();
        if (i.isValid())
            removeRun(i.row());
    });
    connect(csv, &QPushButton::clicked, this, [this] {
        QString path = QFileDialog::getSaveFileName(this, tr("Export runs"), QString(), tr("CSV (*.csv)"));
        if (path.isEmpty())
            return;
        if (!path.endsWith(QLatin1String(".csv"), Qt::CaseInsensitive))
            path += QLatin1String(".csv");
        const QString error = writeTextFile(path, m_runs->toCsv());
        if (!error.isEmpty())
            Q_EMIT problem(tr("Export runs"), error);
    });
    connect(m_table, &QAbstractItemView::doubleClicked, this, [this](const QModelIndex &i) {
        if (i.isValid())
            Q_EMIT showRunRequested(m_runs->run(i.row()).path);
    });
}

QString RunsPanel::addRun(const QString &path)
{
    const QString abs = QFileInfo(path).absoluteFilePath();
    const QString error = m_runs->addRun(abs);
    if (!error.isEmpty())
        return error;
    // The comparison reads the same file; a failure there (a run without training steps) leaves
    // the run in the table.
    m_comparison->addRunFile(abs);
    refreshAblation();
    return {};
}

int RunsPanel::addFolder(const QString &folder, QStringList *problems)
{
    const QDir dir(folder);
    if (!dir.exists()) {
        if (problems)
            *problems << tr("%1: no such folder").arg(folder);
        return 0;
    }
    const QStringList files = dir.entryList(
        { QStringLiteral("*.h5"), QStringLiteral("*.hdf5"), QStringLiteral("*.mqrun") }, QDir::Files, QDir::Name);
    if (files.isEmpty() && problems)
        *problems << tr("%1 holds no run files (*.h5, *.hdf5, *.mqrun)").arg(folder);
    int opened = 0;
    for (const QString &f : files) {
        const QString error = m_runs->addRun(dir.absoluteFilePath(f));
        if (error.isEmpty()) {
            m_comparison->addRunFile(dir.absoluteFilePath(f));
            ++opened;
        } else if (problems) {
            *problems << error;
        }
    }
    refreshAblation();
    return opened;
}

void RunsPanel::removeRun(int row)
{
    if (row < 0 || row >= m_runs->rowCount())
        return;
    m_comparison->removeRun(m_runs->run(row).path);
    m_runs->removeRun(row);
    refreshAblation();
}

void RunsPanel::refreshAblation()
{
    std::vector<RunSummary> runs;
    for (int i = 0; i < m_runs->rowCount(); ++i)
        runs.push_back(m_runs->run(i));
    m_ablation->setRuns(runs);
}

} // namespace mq
