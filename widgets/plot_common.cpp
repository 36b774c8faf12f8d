#include "widgets/qcustomplot_include.h"

#include <array>

namespace mq {

QColor plotColour(size_t i)
{
    static const std::array<QColor, 10> palette = { QColor(31, 119, 180), QColor(255, 127, 14),
        QColor(44, 160, 44), QColor(214, 39, 40), QColor(148, 103, 189), QColor(140, 86, 75),
        QColor(227, 119, 194), QColor(127, 127, 127), QColor(188, 189, 34), QColor(23, 190, 207) };
    return palette[i % palette.size()];
}

QCPRange paddedRange(QCPRange range, double fallbackHalfWidth)
{
    const double size = range.size();
    if (size <= 0.0)
        return QCPRange(range.lower - fallbackHalfWidth, range.upper + fallbackHalfWidth);
    return QCPRange(range.lower - kPlotMargin * size, range.upper + kPlotMargin * size);
}

void setLogAxis(QCPAxis *axis, bool on, const char *logFormat, int logPrecision)
{
    if (on) {
        axis->setScaleType(QCPAxis::stLogarithmic);
        axis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
        axis->setNumberFormat(QString::fromLatin1(logFormat));
        axis->setNumberPrecision(logPrecision);
    } else {
        axis->setScaleType(QCPAxis::stLinear);
        axis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        axis->setNumberFormat(QStringLiteral("gb"));
        axis->setNumberPrecision(6);
    }
}

} // namespace mq
