#pragma once

// The one way widgets include QCustomPlot. qcustomplot.h (2.1) uses Qt's bare keywords (signals,
// slots, emit, foreach), which mq_widgets turns off with QT_NO_KEYWORDS; spell them for that
// header only. Include this from .cpp files (the header is slow to compile).
#define signals Q_SIGNALS
#define slots Q_SLOTS
#define emit Q_EMIT
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef foreach
#undef emit
#undef slots
#undef signals

#include <QColor>

namespace mq {

// Colour number i of the plots: Tableau 10, distinguishable on white and for the common
// colour-vision deficiencies; repeats after ten.
QColor plotColour(size_t i);

// `range` widened by 5% of its size on each side, or by `fallbackHalfWidth` when it is empty.
QCPRange paddedRange(QCPRange range, double fallbackHalfWidth);

// Switches an axis between logarithmic (log ticker, numbers in `logFormat` with `logPrecision`;
// "eb" draws powers of ten as 10 with a superscript) and linear ("gb", 6 digits).
void setLogAxis(QCPAxis *axis, bool on, const char *logFormat = "eb", int logPrecision = 1);

// Fraction of the data's extent added on each side when the axes follow the data.
constexpr double kPlotMargin = 0.05;

} // namespace mq
