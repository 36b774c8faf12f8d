#include "app/workbench/screenshots.h"

#include "widgets/qcustomplot_include.h"

#include <QCoreApplication>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QImageWriter>
#include <QMainWindow>
#include <QTabWidget>

namespace mq {

namespace {

constexpr qint64 kMaxScreenshotBytes = 190 * 1024;

struct DockShot
{
    const char *dock; // object name
    int tab; // -1: the dock's widget is not a QTabWidget
    QSize size;
    const char *file;
};

// Sizes chosen so every axis, legend and column header has room (checked by looking at them).
const DockShot kDockShots[] = {
    { "sitesDock", -1, { 860, 560 }, "sites" },
    { "calibrationDock", -1, { 460, 860 }, "calibration" },
    { "rangeDock", -1, { 760, 420 }, "range-evolution" },
    { "scalesDock", -1, { 760, 640 }, "transform-scales" },
    { "trainingDock", 0, { 760, 440 }, "training" },
    { "trainingDock", 1, { 760, 440 }, "weight-ranges" },
    { "runsDock", 0, { 960, 440 }, "runs" },
    { "runsDock", 1, { 960, 440 }, "comparison" },
    { "runsDock", 2, { 960, 440 }, "ablation" },
};

void settle(QWidget *w)
{
    // Layouts and QCustomPlot buffers follow a resize only after the event loop ran.
    for (int i = 0; i < 3; ++i)
        QCoreApplication::processEvents();
    for (QCustomPlot *plot : w->findChildren<QCustomPlot *>())
        plot->replot(QCustomPlot::rpImmediateRefresh);
    QCoreApplication::processEvents();
}

bool writePng(const QImage &image, const QString &path)
{
    QImageWriter writer(path, "png");
    writer.setQuality(0); // Qt's PNG writer: 0 = the strongest zlib compression
    return writer.write(image);
}

} // namespace

QString saveWidgetScreenshot(QWidget &widget, const QString &folder, const QString &name, QString *error)
{
    QDir().mkpath(folder);
    settle(&widget);
    const QString path = QDir(folder).absoluteFilePath(name + QStringLiteral(".png"));
    const QImage image = widget.grab().toImage();
    bool ok = writePng(image, path);
    // A full window in true colour can pass 200 KB; a 256-colour palette (flat UI colours,
    // antialiased text) keeps it well under without visible loss.
    if (ok && QFileInfo(path).size() > kMaxScreenshotBytes)
        ok = writePng(image.convertToFormat(QImage::Format_Indexed8, Qt::ThresholdDither | Qt::AvoidDither), path);
    if (ok)
        return path;
    if (error)
        *error = QStringLiteral("%1: could not write the screenshot").arg(path);
    return {};
}

QStringList saveWindowScreenshots(QMainWindow &window, const QString &folder, QString *error)
{
    QStringList written;
    auto save = [&](QWidget *w, const QString &name) {
        const QString path = saveWidgetScreenshot(*w, folder, name, error);
        if (!path.isEmpty())
            written << path;
    };

    save(&window, QStringLiteral("workbench"));
    if (window.centralWidget())
        save(window.centralWidget(), QStringLiteral("outlier-inspector"));
    const QByteArray layout = window.saveState();
    for (const DockShot &shot : kDockShots) {
        auto *dock = window.findChild<QDockWidget *>(QLatin1String(shot.dock));
        if (!dock)
            continue;
        auto *tabs = qobject_cast<QTabWidget *>(dock->widget());
        const int previousTab = tabs ? tabs->currentIndex() : -1;
        if (tabs && shot.tab >= 0)
            tabs->setCurrentIndex(shot.tab);
        dock->setFloating(true);
        dock->resize(shot.size);
        save(dock->widget(), QLatin1String(shot.file));
        if (tabs)
            tabs->setCurrentIndex(previousTab);
    }
    window.restoreState(layout);
    return written;
}

} // namespace mq
