#pragma once

#include "core/device/results.h"

#include <QAbstractTableModel>
#include <QStringList>

#include <vector>

namespace mq {

// Past device benchmarks read from run files (/device/benchmarks/...), newest first: when, device,
// variants, prompt length, power source (ODPM rails or battery), file, and whether it ended early. GUI thread only;
// reading happens in load().
class BenchmarkHistoryModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { Created, Device, Variants, Prompt, Power, File, Status, ColumnCount };

    struct Entry
    {
        QString file;
        QString id;
        device::BenchmarkReport report;
    };

    using QAbstractTableModel::QAbstractTableModel;

    // Reads every *.h5 in `folder` (not recursive) and the extra files; files that are not run
    // files, or have no benchmarks, are skipped. Returns the files that could not be read, with why.
    QStringList load(const QString &folder, const QStringList &extraFiles = {});

    const std::vector<Entry> &entries() const { return m_entries; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::vector<Entry> m_entries;
};

} // namespace mq
