#pragma once

class QCustomPlot;

namespace mq {

// Moves a plot's legend out of its axis rect, so that it never hides data: beside the axes in a
// column of its own at the right (for many or long entries: one per run), or above them in one
// row (for a few short entries; `wrap` > 0 starts a new row after that many entries). Call once,
// after the plot is made.
// `row`: the plot layout row of the axis rect (1 when a title row was inserted above it).
void placeLegendBeside(QCustomPlot *plot, int row = 0);
void placeLegendAbove(QCustomPlot *plot, int wrap = 0);

} // namespace mq
