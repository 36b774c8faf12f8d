#include "app/workbench/package_dialog.h"

#include "core/runtime/model_package.h"
#include "core/runtime/package.h"

#include <nlohmann/json.hpp>

#include <QDialogButtonBox>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>
#include <map>

namespace mq {

namespace {

QTableWidget *makeTable(const QStringList &headers, QWidget *parent)
{
    auto *t = new QTableWidget(0, int(headers.size()), parent);
    t->setHorizontalHeaderLabels(headers);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->verticalHeader()->setVisible(false);
    t->horizontalHeader()->setStretchLastSection(true);
    return t;
}

// A cell that sorts by number when given one.
QTableWidgetItem *cell(const QString &text)
{
    return new QTableWidgetItem(text);
}

QTableWidgetItem *number(double value, const QString &text)
{
    auto *item = new QTableWidgetItem;
    item->setData(Qt::DisplayRole, value);
    item->setData(Qt::ToolTipRole, text);
    return item;
}

QString str(const nlohmann::json &j, const char *key)
{
    const auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return {};
    return QString::fromStdString(it->is_string() ? it->get<std::string>() : it->dump());
}

QString bytesText(double bytes)
{
    return QLocale::system().formattedDataSize(qint64(bytes), 1, QLocale::DataSizeTraditionalFormat);
}

} // namespace

PackageDialog::PackageDialog(QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Model package"));
    auto *layout = new QVBoxLayout(this);
    m_summary = new QLabel(this);
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary->setWordWrap(true);
    layout->addWidget(m_summary);

    m_tabs = new QTabWidget(this);
    m_sites = makeTable({ tr("Activation site"), tr("Bits"), tr("Scale"), tr("Zero point"), tr("Codes") }, this);
    m_weights = makeTable({ tr("Weight"), tr("Bits"), tr("Stored as"), tr("Grid") }, this);
    m_tensors = makeTable({ tr("Tensor"), tr("Type"), tr("Shape"), tr("Bytes") }, this);
    m_tabs->addTab(m_sites, tr("&Activation sites"));
    m_tabs->addTab(m_weights, tr("&Weights"));
    m_tabs->addTab(m_tensors, tr("&Tensors"));
    layout->addWidget(m_tabs, 1);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    m_benchmark = buttons->addButton(tr("&Benchmark on a device…"), QDialogButtonBox::ActionRole);
    m_benchmark->setToolTip(tr("Open the Devices dock with this package chosen"));
    m_showRun = buttons->addButton(tr("Show the &run"), QDialogButtonBox::ActionRole);
    m_showRun->setToolTip(tr("Open the calibration run the package was exported from"));
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::close);
    connect(m_benchmark, &QPushButton::clicked, this, [this] { Q_EMIT benchmarkRequested(m_path); });
    connect(m_showRun, &QPushButton::clicked, this, [this] { Q_EMIT showRunRequested(m_runPath); });
    resize(900, 640);
}

QString PackageDialog::load(const QString &path)
{
    nlohmann::json meta;
    ModelPackageConfig config;
    std::vector<std::tuple<std::string, PackageDType, std::vector<uint64_t>, size_t>> tensors;
    std::string hash;
    uint32_t version = 0;
    try {
        const Package package = Package::open(path.toStdString()); // checks the layout and the hash
        config = readModelConfig(package);
        version = package.formatVersion();
        hash = package.contentHash();
        for (const std::string &name : package.names()) {
            const PackageTensor t = package.tensor(name);
            tensors.emplace_back(name, t.dtype, t.shape, t.size);
        }
        meta = nlohmann::json::parse(package.metadata(), nullptr, false);
        if (meta.is_discarded())
            meta = nlohmann::json::object(); // the runtime does not need it; show what the tensors say
    } catch (const std::exception &e) {
        return tr("%1 cannot be shown: %2").arg(path, QString::fromStdString(e.what()));
    }

    m_path = path;
    m_variant = QString::fromLatin1(modelVariantName(config.variant));
    const nlohmann::json run = meta.value("run", nlohmann::json::object());
    const nlohmann::json model = meta.value("model", nlohmann::json::object());
    m_runPath = str(run, "path");
    const bool runThere = !m_runPath.isEmpty() && QFileInfo::exists(m_runPath);
    m_showRun->setEnabled(runThere);
    m_showRun->setToolTip(runThere ? tr("Open %1").arg(m_runPath)
                                   : tr("The run the package came from (%1) is not on this computer")
                                         .arg(m_runPath.isEmpty() ? tr("not recorded") : m_runPath));
    setWindowTitle(tr("Model package — %1").arg(QFileInfo(path).fileName()));

    QStringList rows;
    const auto row = [&rows](const QString &k, const QString &v) {
        rows << QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>").arg(k, v.toHtmlEscaped());
    };
    row(tr("File"), QStringLiteral("%1 (%2)").arg(path, bytesText(double(QFileInfo(path).size()))));
    row(tr("Variant"), m_variant.toUpper());
    row(tr("Model"),
        tr("%1, %2 layers, hidden %3, intermediate %4, %5 heads (%6 key/value), head %7, vocabulary %8, context %9")
            .arg(QString::fromLatin1(modelArchName(config.arch)))
            .arg(config.layers)
            .arg(config.hidden)
            .arg(config.inter)
            .arg(config.heads)
            .arg(config.kvHeads)
            .arg(config.headDim)
            .arg(config.vocab)
            .arg(config.maxPositions));
    row(tr("Tokenizer"), QString::fromLatin1(tokenizerKindName(config.tokenizer)));
    if (!run.empty())
        row(tr("Exported from"), tr("%1 (%2, %3)").arg(m_runPath, str(run, "method"), str(run, "bits")));
    if (!model.empty())
        row(tr("Checkpoint"), str(model, "path"));
    if (meta.contains("weights_from"))
        row(tr("Weights"), str(meta, "weights_from"));
    if (meta.contains("activation_ranges_from"))
        row(tr("Activation ranges"), str(meta, "activation_ranges_from"));
    row(tr("Format"), tr("version %1, content hash %2").arg(version).arg(QString::fromStdString(hash)));
    m_summary->setText(QStringLiteral("<table cellspacing=4>%1</table>").arg(rows.join(QString())));

    m_sites->setSortingEnabled(false);
    m_sites->setRowCount(0);
    const nlohmann::json sites = meta.value("sites", nlohmann::json::object());
    for (const auto &[name, s] : sites.items()) {
        const double qmin = s.value("qmin", 0.0), qmax = s.value("qmax", 0.0);
        const int bits = qmax > qmin ? int(std::lround(std::log2(qmax - qmin + 1))) : 0;
        const int r = m_sites->rowCount();
        m_sites->insertRow(r);
        m_sites->setItem(r, 0, cell(QString::fromStdString(name)));
        m_sites->setItem(r, 1, number(bits, QString::number(bits)));
        const double scale = s.value("scale", 0.0);
        m_sites->setItem(r, 2, number(scale, QString::number(scale, 'g', 9)));
        m_sites->setItem(r, 3, number(s.value("zero_point", 0.0), str(s, "zero_point")));
        m_sites->setItem(r, 4, cell(QStringLiteral("[%1, %2]").arg(qmin).arg(qmax)));
    }
    m_sites->setSortingEnabled(true);
    m_sites->sortByColumn(0, Qt::AscendingOrder);

    m_weights->setSortingEnabled(false);
    m_weights->setRowCount(0);
    const nlohmann::json weights = meta.value("weights", nlohmann::json::object());
    for (const auto &[name, w] : weights.items()) {
        const int r = m_weights->rowCount();
        m_weights->insertRow(r);
        m_weights->setItem(r, 0, cell(QString::fromStdString(name)));
        const double bits = w.value("bits", 0.0);
        m_weights->setItem(r, 1, number(bits, QString::number(bits)));
        m_weights->setItem(r, 2, cell(str(w, "dtype")));
        m_weights->setItem(r, 3,
            cell(QStringLiteral("%1, %2")
                     .arg(w.value("symmetric", false) ? tr("symmetric") : tr("asymmetric"),
                         w.value("per_channel", false) ? tr("per channel") : tr("per tensor"))));
    }
    m_weights->setSortingEnabled(true);
    m_weights->sortByColumn(0, Qt::AscendingOrder);

    m_tensors->setSortingEnabled(false);
    m_tensors->setRowCount(0);
    for (const auto &[name, dtype, shape, size] : tensors) {
        const int r = m_tensors->rowCount();
        m_tensors->insertRow(r);
        m_tensors->setItem(r, 0, cell(QString::fromStdString(name)));
        m_tensors->setItem(r, 1, cell(QString::fromLatin1(packageDTypeName(dtype))));
        QStringList dims;
        for (uint64_t d : shape)
            dims << QString::number(d);
        m_tensors->setItem(r, 2, cell(dims.join(QStringLiteral(" × "))));
        m_tensors->setItem(r, 3, number(double(size), bytesText(double(size))));
    }
    m_tensors->setSortingEnabled(true);
    m_tensors->sortByColumn(0, Qt::AscendingOrder);
    m_tabs->setTabText(0, tr("&Activation sites (%1)").arg(m_sites->rowCount()));
    m_tabs->setTabText(1, tr("&Weights (%1)").arg(m_weights->rowCount()));
    m_tabs->setTabText(2, tr("&Tensors (%1)").arg(m_tensors->rowCount()));
    for (QTableWidget *t : { m_sites, m_weights, m_tensors })
        t->resizeColumnsToContents();
    return {};
}

QString PackageDialog::summaryText() const
{
    return m_summary->text();
}

} // namespace mq
