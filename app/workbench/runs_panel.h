#pragma once

#include <QString>
#include <QTabWidget>

class QTableView;

namespace mq {

class AblationView;
class RunComparisonView;
class RunListModel;

// The Runs dock: the table of open run files (RunListModel) with its buttons, the comparison
// of their loss curves / ranges and the Table 2 ablation plots, kept in step: a run added here
// is in all three. GUI thread only.
class RunsPanel : public QTabWidget
{
    Q_OBJECT

public:
    enum Tab { TableTab, ComparisonTab, AblationTab };

    explicit RunsPanel(QWidget *parent = nullptr);

    // Reads a run file into the table, the comparison and the ablation (a listed file is
    // re-read). Returns an empty string or the message naming the file.
    QString addRun(const QString &path);
    // Every *.h5 / *.hdf5 file of a folder; returns how many opened, and in `problems` the
    // messages of those that did not.
    int addFolder(const QString &folder, QStringList *problems);
    void removeRun(int row);

    RunListModel *model() const { return m_runs; }
    QTableView *table() const { return m_table; }
    RunComparisonView *comparison() const { return m_comparison; }
    AblationView *ablation() const { return m_ablation; }

Q_SIGNALS:
    void openRunRequested();
    void openFolderRequested();
    void showRunRequested(const QString &path); // a row was double-clicked
    void problem(const QString &title, const QString &message);

private:
    void refreshAblation();

    RunListModel *m_runs = nullptr;
    QTableView *m_table = nullptr;
    RunComparisonView *m_comparison = nullptr;
    AblationView *m_ablation = nullptr;
};

} // namespace mq
