#pragma once

#include <QAbstractTableModel>
#include <QString>

#include <optional>
#include <string>
#include <vector>

namespace mq {

// What the run list shows of one run file: a plain value read once from the file.
struct RunSummary
{
    QString path; // absolute
    QString method;
    QString bits; // as the run config gives it: 4, "W4A8", …
    std::optional<double> samples;
    std::optional<double> epochs;
    std::optional<double> seqlen;
    std::size_t steps = 0; // training steps recorded
    std::optional<double> finalLoss;
    std::optional<double> floatPerplexity; // eval "perplexity": fp_perplexity
    std::optional<double> quantPerplexity; // eval "perplexity": quant_perplexity

    // Reads a run file (docs/run-file.md). Throws mq::Error with a message naming the file.
    static RunSummary read(const std::string &path);
};

// The runs open in the workbench, one row per run file, for comparing them. GUI thread only.
class RunListModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        MethodColumn,
        BitsColumn,
        SamplesColumn,
        EpochsColumn,
        StepsColumn,
        FinalLossColumn,
        FloatPplColumn,
        QuantPplColumn,
        FileColumn,
        ColumnCount
    };
    enum Roles {
        SortRole = Qt::UserRole, // numbers as double, text as QString; invalid when unknown
        PathRole,                // absolute path of the run file
    };

    explicit RunListModel(QObject *parent = nullptr);

    // Reads the run file and appends a row; a file already listed is re-read and its row updated.
    // On failure the model is unchanged, runLoadFailed() is emitted and the message (naming the
    // file and the problem) is returned; on success the result is empty.
    QString addRun(const QString &path);
    bool removeRun(int row);
    int rowOfPath(const QString &path) const; // -1 when not listed
    const RunSummary &run(int row) const { return m_runs[size_t(row)]; }

    // A header line then one line per run, in row order (RFC 4180 quoting; numbers in full
    // precision, empty when unknown).
    QString toCsv() const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void runLoadFailed(const QString &path, const QString &message);

private:
    std::vector<RunSummary> m_runs;
};

} // namespace mq
