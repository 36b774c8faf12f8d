#pragma once

#include <QString>

#include <functional>

class QAbstractItemModel;
class QAbstractItemView;
class QWidget;

namespace mq {

// Every row of a (tree or table) model as CSV: a header line from the horizontal header, then
// the rows depth-first (children after their parent), display text quoted per RFC 4180.
QString modelToCsv(const QAbstractItemModel &model);

// Writes `text` to `path` (UTF-8). Returns an empty string or a message naming the file.
QString writeTextFile(const QString &path, const QString &text);

// Gives every QCustomPlot under `root` (now, not later ones) a context menu with "Export plot as
// PNG/PDF…"; errors are shown in a message box. GUI thread only.
void attachPlotExport(QWidget *root);

// Gives a table or tree view a context menu with "Export table as CSV…" writing `csv()`.
void attachTableExport(QAbstractItemView *view, std::function<QString()> csv);

} // namespace mq
