#pragma once

#include <QDialog>
#include <QString>

class QLabel;
class QPushButton;
class QTableWidget;
class QTabWidget;

namespace mq {

// What an integer model package (.mqpkg, docs/package-format.md) holds, as the workbench shows it
// when one is opened (File > Open, a positional file, a double-click through the MIME type): the
// variant and the model's numbers, where it came from (run, method, checkpoint), the grid of every
// activation site (scale, zero point, bits), the weights' formats and the tensor table. It reads
// the container (which checks the content hash) and the model config; it does not load the
// weights into the runtime. "Benchmark on a device…" hands the package to the devices dock.
class PackageDialog : public QDialog
{
    Q_OBJECT

public:
    explicit PackageDialog(QWidget *parent = nullptr);

    // Reads `path`; returns an empty string, or why it is not a package the runtime would run
    // (truncated, bad hash, newer format, not a model package) — the dialog is unchanged then.
    QString load(const QString &path);

    QString path() const { return m_path; }
    QString variant() const { return m_variant; }
    QString runPath() const { return m_runPath; }
    QTableWidget *sitesTable() const { return m_sites; }
    QTableWidget *weightsTable() const { return m_weights; }
    QTableWidget *tensorsTable() const { return m_tensors; }
    QPushButton *benchmarkButton() const { return m_benchmark; }
    QPushButton *showRunButton() const { return m_showRun; }
    QString summaryText() const;

Q_SIGNALS:
    void benchmarkRequested(const QString &packagePath);
    void showRunRequested(const QString &runPath);

private:
    QLabel *m_summary = nullptr;
    QTabWidget *m_tabs = nullptr;
    QTableWidget *m_sites = nullptr;
    QTableWidget *m_weights = nullptr;
    QTableWidget *m_tensors = nullptr;
    QPushButton *m_benchmark = nullptr;
    QPushButton *m_showRun = nullptr;
    QString m_path, m_variant, m_runPath;
};

} // namespace mq
