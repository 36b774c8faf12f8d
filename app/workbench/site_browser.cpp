#include "app/workbench/site_browser.h"

#include "app/workbench/export_actions.h"
#include "widgets/site_tree_model.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QSettings>
#include <QTreeView>
#include <QVBoxLayout>

namespace mq {

SiteBrowser::SiteBrowser(QWidget *parent)
    : QWidget(parent)
    , m_model(new SiteTreeModel(this))
    , m_filter(new SiteFilterModel(this))
{
    m_filter->setSourceModel(m_model);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    auto *row = new QHBoxLayout;
    m_text = new QLineEdit;
    m_text->setPlaceholderText(tr("Filter sites, e.g. mlp.down"));
    m_text->setClearButtonEnabled(true);
    m_bits = new QComboBox;
    m_bits->addItems({ tr("All bit widths"), tr("16-bit sites"), tr("8-bit sites") });
    row->addWidget(m_text, 1);
    row->addWidget(m_bits);
    layout->addLayout(row);

    m_tree = new QTreeView;
    m_tree->setModel(m_filter);
    m_tree->setSortingEnabled(true);
    m_tree->sortByColumn(SiteTreeModel::SiteColumn, Qt::AscendingOrder);
    m_tree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->header()->setStretchLastSection(false);
    // Not ResizeToContents: that measures every row at every live update (46 ms per snapshot on
    // stories260K in mq_workbench_bench); the columns are fitted once per new site list instead.
    m_tree->header()->setSectionResizeMode(QHeaderView::Interactive);
    layout->addWidget(m_tree, 1);

    connect(m_text, &QLineEdit::textChanged, m_filter, &SiteFilterModel::setFilterText);
    connect(m_bits, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_filter->setBitsFilter(i == 1 ? SiteFilterModel::BitsFilter::Only16Bit
                : i == 2               ? SiteFilterModel::BitsFilter::Only8Bit
                                       : SiteFilterModel::BitsFilter::All);
    });
    connect(m_tree->selectionModel(), &QItemSelectionModel::selectionChanged, this, &SiteBrowser::emitSelection);
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this, &SiteBrowser::emitSelection);
    // A different site list resets the model: open the layers again and fit the columns.
    connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
        if (m_model->rowCount() <= 8)
            m_tree->expandToDepth(0);
        for (int c = 0; c < m_filter->columnCount(); ++c)
            m_tree->resizeColumnToContents(c);
    });
    attachTableExport(m_tree, [this] { return modelToCsv(*m_filter); });
}

QString SiteBrowser::currentSite() const
{
    return m_tree->currentIndex().data(SiteTreeModel::SiteNameRole).toString();
}

QStringList SiteBrowser::selectedSites() const
{
    QStringList selected;
    const QString current = currentSite();
    if (!current.isEmpty())
        selected << current;
    for (const QModelIndex &i : m_tree->selectionModel()->selectedRows(SiteTreeModel::SiteColumn)) {
        const QString name = i.data(SiteTreeModel::SiteNameRole).toString();
        if (!name.isEmpty() && !selected.contains(name))
            selected << name;
    }
    return selected;
}

void SiteBrowser::emitSelection()
{
    Q_EMIT selectionChanged(currentSite(), selectedSites());
}

bool SiteBrowser::selectSite(const QString &site)
{
    const QModelIndex proxy = m_filter->mapFromSource(m_model->indexOfSite(site.toStdString()));
    if (!proxy.isValid())
        return false;
    m_tree->expand(proxy.parent());
    m_tree->selectionModel()->setCurrentIndex(proxy, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_tree->scrollTo(proxy);
    return true;
}

bool SiteBrowser::selectSites(const QStringList &sites)
{
    if (sites.isEmpty())
        return false;
    bool all = selectSite(sites.front());
    for (int i = 1; i < sites.size(); ++i) {
        const QModelIndex proxy = m_filter->mapFromSource(m_model->indexOfSite(sites[i].toStdString()));
        if (!proxy.isValid()) {
            all = false;
            continue;
        }
        m_tree->expand(proxy.parent());
        m_tree->selectionModel()->select(proxy, QItemSelectionModel::Select | QItemSelectionModel::Rows);
    }
    return all;
}

void SiteBrowser::saveSettings(QSettings &s) const
{
    s.setValue(QStringLiteral("sites/filter"), m_text->text());
    s.setValue(QStringLiteral("sites/bits"), m_bits->currentIndex());
}

void SiteBrowser::restoreSettings(const QSettings &s)
{
    m_text->setText(s.value(QStringLiteral("sites/filter")).toString());
    m_bits->setCurrentIndex(s.value(QStringLiteral("sites/bits"), 0).toInt());
}

} // namespace mq
