#include "widgets/run_list_model.h"

#include "core/store/run_reader.h"
#include "core/util/error.h"

#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QStringList>

#include <algorithm>

namespace mq {

namespace {

std::optional<double> jsonNumber(const QJsonObject &o, const char *key)
{
    const auto v = o.value(QLatin1String(key));
    return v.isDouble() ? std::optional<double>(v.toDouble()) : std::nullopt;
}

QString jsonText(const QJsonObject &o, const char *key)
{
    const auto v = o.value(QLatin1String(key));
    if (v.isString())
        return v.toString();
    if (v.isDouble())
        return QString::number(v.toDouble(), 'g', QLocale::FloatingPointShortest);
    return {};
}

QJsonObject parseObject(const std::string &json)
{
    return QJsonDocument::fromJson(QByteArray::fromStdString(json)).object();
}

QString shortest(const std::optional<double> &v)
{
    return v ? QString::number(*v, 'g', QLocale::FloatingPointShortest) : QString();
}

QString csvField(const QString &text)
{
    if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) && !text.contains(QLatin1Char('\n'))
        && !text.contains(QLatin1Char('\r')))
        return text;
    QString quoted = text;
    quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

} // namespace

RunSummary RunSummary::read(const std::string &path)
{
    const RunReader reader = RunReader::open(path);
    RunSummary s;
    s.path = QFileInfo(QString::fromStdString(path)).absoluteFilePath();
    const QJsonObject config = parseObject(reader.header().configJson);
    s.method = jsonText(config, "method");
    s.bits = jsonText(config, "bits");
    s.samples = jsonNumber(config, "samples");
    s.epochs = jsonNumber(config, "epochs");
    s.seqlen = jsonNumber(config, "seqlen");
    const TrainSeries train = reader.train();
    s.steps = train.step.size();
    if (!train.loss.empty())
        s.finalLoss = train.loss.back();
    const auto evals = reader.evalNames();
    if (std::find(evals.begin(), evals.end(), "perplexity") != evals.end()) {
        const QJsonObject ppl = parseObject(reader.eval("perplexity"));
        s.floatPerplexity = jsonNumber(ppl, "fp_perplexity");
        s.quantPerplexity = jsonNumber(ppl, "quant_perplexity");
    }
    return s;
}

RunListModel::RunListModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

QString RunListModel::addRun(const QString &path)
{
    RunSummary summary;
    QString message;
    try {
        summary = RunSummary::read(path.toStdString());
    } catch (const std::exception &e) {
        message = QString::fromStdString(e.what());
        if (!message.contains(path))
            message = path + QStringLiteral(": ") + message;
    } catch (...) {
        message = path + QStringLiteral(": could not be read as a run file");
    }
    if (!message.isEmpty()) {
        Q_EMIT runLoadFailed(path, message);
        return message;
    }
    const int existing = rowOfPath(summary.path);
    if (existing >= 0) {
        m_runs[size_t(existing)] = std::move(summary);
        Q_EMIT dataChanged(index(existing, 0), index(existing, ColumnCount - 1));
        return {};
    }
    const int row = int(m_runs.size());
    beginInsertRows({}, row, row);
    m_runs.push_back(std::move(summary));
    endInsertRows();
    return {};
}

bool RunListModel::removeRun(int row)
{
    if (row < 0 || row >= int(m_runs.size()))
        return false;
    beginRemoveRows({}, row, row);
    m_runs.erase(m_runs.begin() + row);
    endRemoveRows();
    return true;
}

int RunListModel::rowOfPath(const QString &path) const
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    for (int r = 0; r < int(m_runs.size()); ++r)
        if (m_runs[size_t(r)].path == absolute)
            return r;
    return -1;
}

QString RunListModel::toCsv() const
{
    QString csv = QStringLiteral("method,bits,samples,epochs,steps,final_loss,float_ppl,quant_ppl,file\n");
    for (const auto &r : m_runs) {
        const QStringList fields { csvField(r.method), csvField(r.bits), shortest(r.samples), shortest(r.epochs),
            QString::number(r.steps), shortest(r.finalLoss), shortest(r.floatPerplexity), shortest(r.quantPerplexity),
            csvField(r.path) };
        csv += fields.join(QLatin1Char(',')) + QLatin1Char('\n');
    }
    return csv;
}

int RunListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_runs.size());
}

int RunListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RunListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const auto &r = m_runs[size_t(index.row())];
    if (role == PathRole)
        return r.path;
    if (role == Qt::ToolTipRole)
        return r.path;
    if (role == Qt::TextAlignmentRole)
        return index.column() == MethodColumn || index.column() == FileColumn ? QVariant()
                                                                              : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
    if (role != Qt::DisplayRole && role != SortRole)
        return {};
    const bool sort = role == SortRole;
    auto num = [sort](const std::optional<double> &v, char format, int precision) -> QVariant {
        if (!v)
            return {};
        return sort ? QVariant(*v) : QVariant(QString::number(*v, format, precision));
    };
    switch (index.column()) {
    case MethodColumn:
        return r.method;
    case BitsColumn:
        return r.bits;
    case SamplesColumn:
        return num(r.samples, 'g', 10);
    case EpochsColumn:
        return num(r.epochs, 'g', 10);
    case StepsColumn:
        return sort ? QVariant(double(r.steps)) : QVariant(QString::number(r.steps));
    case FinalLossColumn:
        return num(r.finalLoss, 'g', 5);
    case FloatPplColumn:
        return num(r.floatPerplexity, 'f', 2);
    case QuantPplColumn:
        return num(r.quantPerplexity, 'f', 2);
    case FileColumn:
        return sort ? QVariant(r.path) : QVariant(QFileInfo(r.path).fileName());
    default:
        return {};
    }
}

QVariant RunListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case MethodColumn:
        return tr("Method");
    case BitsColumn:
        return tr("Bits");
    case SamplesColumn:
        return tr("Samples");
    case EpochsColumn:
        return tr("Epochs");
    case StepsColumn:
        return tr("Steps");
    case FinalLossColumn:
        return tr("Final loss");
    case FloatPplColumn:
        return tr("Float ppl");
    case QuantPplColumn:
        return tr("Quantized ppl");
    case FileColumn:
        return tr("File");
    default:
        return {};
    }
}

} // namespace mq
