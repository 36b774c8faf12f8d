#pragma once

#include <QString>
#include <QStringList>

class QMainWindow;
class QWidget;

namespace mq {

// Saves PNGs for the documentation (scripts/screenshots.sh, `mq-workbench --screenshot-dir`):
// the whole window ("workbench.png"), its central widget ("outlier-inspector.png"), and each
// dock alone at a size that suits it (floated, resized, grabbed, put back; a dock holding tabs
// gives one image per tab). Images over ~190 KB are stored with a 256-colour palette so they stay
// commit-sized. Returns the files written; `error` gets the last failure. GUI thread only.
QStringList saveWindowScreenshots(QMainWindow &window, const QString &folder, QString *error);

// One widget as it is now (e.g. a dialog such as the welcome page) into `folder`/`name`.png, with
// the same size rule. Returns the file written, or empty (and `error` set). GUI thread only.
QString saveWidgetScreenshot(QWidget &widget, const QString &folder, const QString &name, QString *error);

} // namespace mq
