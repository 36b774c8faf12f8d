#pragma once

#include <QString>
#include <QStringList>
#include <QWidget>

class QComboBox;
class QLineEdit;
class QSettings;
class QTreeView;

namespace mq {

class SiteFilterModel;
class SiteTreeModel;

// The Sites dock: the layer → site tree (SiteTreeModel through a SiteFilterModel: sortable,
// filtered by name and by bit width) and its filter row. The current site drives the outlier
// inspector; every selected site goes to the range view. GUI thread only.
class SiteBrowser : public QWidget
{
    Q_OBJECT

public:
    explicit SiteBrowser(QWidget *parent = nullptr);

    SiteTreeModel *model() const { return m_model; }
    SiteFilterModel *filter() const { return m_filter; }
    QTreeView *tree() const { return m_tree; }

    // Makes `site` current (and the only selection); false when the tree does not list it.
    bool selectSite(const QString &site);
    // The first becomes current, all are selected; false when one is not listed.
    bool selectSites(const QStringList &sites);
    QString currentSite() const;
    QStringList selectedSites() const; // the current one first

    void saveSettings(QSettings &settings) const;
    void restoreSettings(const QSettings &settings);

Q_SIGNALS:
    void selectionChanged(const QString &current, const QStringList &selected);

private:
    void emitSelection();

    SiteTreeModel *m_model = nullptr;
    SiteFilterModel *m_filter = nullptr;
    QTreeView *m_tree = nullptr;
    QLineEdit *m_text = nullptr;
    QComboBox *m_bits = nullptr;
};

} // namespace mq
