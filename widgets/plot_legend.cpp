#include "widgets/plot_legend.h"

#include "widgets/qcustomplot_include.h"

namespace mq {

void placeLegendBeside(QCustomPlot *plot, int row)
{
    plot->axisRect()->insetLayout()->take(plot->legend);
    auto *side = new QCPLayoutGrid;
    plot->plotLayout()->addElement(row, 1, side);
    side->addElement(0, 0, plot->legend);
    side->addElement(1, 0, new QCPLayoutElement(plot)); // takes the height below the legend
    side->setRowStretchFactor(0, 0.001);
    side->setMargins(QMargins(0, 12, 8, 0));
    plot->plotLayout()->setColumnStretchFactor(1, 0.001);
    plot->legend->setMargins(QMargins(6, 4, 6, 4));
}

void placeLegendAbove(QCustomPlot *plot, int wrap)
{
    plot->axisRect()->insetLayout()->take(plot->legend);
    plot->plotLayout()->insertRow(0);
    plot->plotLayout()->addElement(0, 0, plot->legend);
    plot->plotLayout()->setRowStretchFactor(0, 0.001);
    plot->legend->setWrap(wrap);
    plot->legend->setFillOrder(QCPLegend::foColumnsFirst);
    plot->legend->setBorderPen(Qt::NoPen);
    plot->legend->setMargins(QMargins(6, 2, 6, 2));
    plot->legend->setLayer(QStringLiteral("legend"));
}

} // namespace mq
