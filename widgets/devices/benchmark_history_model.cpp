#include "widgets/devices/benchmark_history_model.h"

#include "core/store/device_results.h"

#include <QDir>
#include <QFileInfo>
#include <QSet>

#include <algorithm>

namespace mq {

QStringList BenchmarkHistoryModel::load(const QString &folder, const QStringList &extraFiles)
{
    QStringList files;
    if (!folder.isEmpty())
        for (const QFileInfo &fi : QDir(folder).entryInfoList({ QStringLiteral("*.h5") }, QDir::Files, QDir::Name))
            files << fi.absoluteFilePath();
    for (const QString &f : extraFiles)
        files << QFileInfo(f).absoluteFilePath();
    files.removeDuplicates();
    QStringList problems;
    std::vector<Entry> entries;
    for (const QString &f : files) {
        try {
            for (auto &b : readDeviceBenchmarks(f.toStdString()))
                entries.push_back({ f, QString::fromStdString(b.id), std::move(b.report) });
        } catch (const std::exception &e) {
            problems << QString::fromStdString(e.what());
        }
    }
    std::stable_sort(entries.begin(), entries.end(),
        [](const Entry &a, const Entry &b) { return a.report.created > b.report.created; });
    beginResetModel();
    m_entries = std::move(entries);
    endResetModel();
    return problems;
}

int BenchmarkHistoryModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_entries.size());
}

int BenchmarkHistoryModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant BenchmarkHistoryModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const Entry &e = m_entries[size_t(index.row())];
    if (role == Qt::ToolTipRole)
        return e.report.error.empty() ? QVariant() : QString::fromStdString(e.report.error);
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Created:
        return QString::fromStdString(e.report.created);
    case Device: {
        auto it = e.report.deviceFacts.find("model");
        const QString model = it == e.report.deviceFacts.end() ? QString() : QString::fromStdString(it->second);
        return model.isEmpty() ? QString::fromStdString(e.report.serial) : model;
    }
    case Variants: {
        QStringList names;
        for (const auto &v : e.report.variants)
            names << QString::fromStdString(v.name);
        return names.join(QStringLiteral(", "));
    }
    case Prompt:
        return e.report.promptTokens;
    case Power:
        return e.report.power.source == "odpm" ? tr("ODPM rails")
            : e.report.power.source == "none"  ? tr("none")
                                               : tr("battery");
    case File:
        return QFileInfo(e.file).fileName() + QStringLiteral(" #") + e.id;
    case Status:
        return e.report.error.empty() ? tr("complete") : tr("ended early");
    default:
        return {};
    }
}

QVariant BenchmarkHistoryModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char *names[] = { "When (UTC)", "Device", "Variants", "Prompt", "Power", "File", "Status" };
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

} // namespace mq
