#include "widgets/plot_export.h"

#include "widgets/qcustomplot_include.h"

#include <QFileInfo>

namespace mq {

QString exportPlot(QCustomPlot *plot, const QString &path)
{
    if (!plot)
        return path + QStringLiteral(": no plot to export");
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix != QLatin1String("png") && suffix != QLatin1String("pdf")) {
        const QString shown = suffix.isEmpty() ? QStringLiteral("no file extension")
                                               : QStringLiteral("unsupported file type \"%1\"").arg(suffix);
        return path + QStringLiteral(": ") + shown + QStringLiteral("; use .png or .pdf");
    }
    // A widget that was never shown may still have its tiny default geometry.
    const bool laidOut = plot->width() >= 100 && plot->height() >= 100;
    const int width = laidOut ? plot->width() : 800;
    const int height = laidOut ? plot->height() : 500;
    const bool ok = suffix == QLatin1String("png") ? plot->savePng(path, width, height)
                                                   : plot->savePdf(path, width, height);
    if (!ok)
        return path + QStringLiteral(": could not write the file (does the folder exist, and may it be written to?)");
    return {};
}

} // namespace mq
