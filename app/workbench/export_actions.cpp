#include "app/workbench/export_actions.h"

#include "widgets/plot_export.h"

#include "widgets/qcustomplot_include.h"
#include <QAbstractItemModel>
#include <QAbstractItemView>
#include <QFile>
#include <QFileDialog>
#include <QMenu>
#include <QMessageBox>
#include <QWidget>

namespace mq {

namespace {

QString csvField(const QString &s)
{
    if (!s.contains(QLatin1Char(',')) && !s.contains(QLatin1Char('"')) && !s.contains(QLatin1Char('\n')))
        return s;
    QString q = s;
    q.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + q + QLatin1Char('"');
}

void appendRows(const QAbstractItemModel &model, const QModelIndex &parent, QString &out)
{
    for (int r = 0; r < model.rowCount(parent); ++r) {
        QStringList fields;
        for (int c = 0; c < model.columnCount(parent); ++c)
            fields << csvField(model.index(r, c, parent).data().toString());
        out += fields.join(QLatin1Char(',')) + QLatin1Char('\n');
        const QModelIndex child = model.index(r, 0, parent);
        if (model.hasChildren(child))
            appendRows(model, child, out);
    }
}

} // namespace

QString modelToCsv(const QAbstractItemModel &model)
{
    QStringList header;
    for (int c = 0; c < model.columnCount(); ++c)
        header << csvField(model.headerData(c, Qt::Horizontal).toString());
    QString out = header.join(QLatin1Char(',')) + QLatin1Char('\n');
    appendRows(model, {}, out);
    return out;
}

QString writeTextFile(const QString &path, const QString &text)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text))
        return QStringLiteral("%1: cannot write (%2); choose another folder").arg(path, f.errorString());
    const QByteArray bytes = text.toUtf8();
    if (f.write(bytes) != bytes.size())
        return QStringLiteral("%1: writing failed (%2)").arg(path, f.errorString());
    return {};
}

void attachPlotExport(QWidget *root)
{
    for (QCustomPlot *plot : root->findChildren<QCustomPlot *>()) {
        if (plot->property("mqExportAttached").toBool())
            continue;
        plot->setProperty("mqExportAttached", true);
        plot->setContextMenuPolicy(Qt::CustomContextMenu);
        QObject::connect(plot, &QWidget::customContextMenuRequested, plot, [plot](const QPoint &pos) {
            QMenu menu(plot);
            QAction *exportAction = menu.addAction(QObject::tr("Export plot as PNG/PDF…"));
            QAction *rescale = menu.addAction(QObject::tr("Fit to data"));
            QAction *chosen = menu.exec(plot->mapToGlobal(pos));
            if (chosen == rescale) {
                plot->rescaleAxes();
                plot->replot(QCustomPlot::rpQueuedReplot);
            } else if (chosen == exportAction) {
                const QString path = QFileDialog::getSaveFileName(plot, QObject::tr("Export plot"), QString(),
                    QObject::tr("PNG image (*.png);;PDF document (*.pdf)"));
                if (path.isEmpty())
                    return;
                const QString error = exportPlot(plot, path);
                if (!error.isEmpty())
                    QMessageBox::warning(plot, QObject::tr("Export plot"), error);
            }
        });
    }
}

void attachTableExport(QAbstractItemView *view, std::function<QString()> csv)
{
    view->setContextMenuPolicy(Qt::CustomContextMenu);
    QObject::connect(view, &QWidget::customContextMenuRequested, view, [view, csv](const QPoint &pos) {
        QMenu menu(view);
        QAction *exportAction = menu.addAction(QObject::tr("Export table as CSV…"));
        if (menu.exec(view->viewport()->mapToGlobal(pos)) != exportAction)
            return;
        QString path
            = QFileDialog::getSaveFileName(view, QObject::tr("Export table"), QString(), QObject::tr("CSV (*.csv)"));
        if (path.isEmpty())
            return;
        if (!path.endsWith(QLatin1String(".csv"), Qt::CaseInsensitive))
            path += QLatin1String(".csv");
        const QString error = writeTextFile(path, csv());
        if (!error.isEmpty())
            QMessageBox::warning(view, QObject::tr("Export table"), error);
    });
}

} // namespace mq
