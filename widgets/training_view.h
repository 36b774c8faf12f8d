#pragma once

#include "core/store/run_types.h"

#include <QWidget>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

class QCustomPlot;
class QCPGraph;

namespace mq {

// The training curves of a run: a QCustomPlot with the loss over the steps on the left axis and
// the learning rate of each parameter group (whatever groups the series holds: let, lwc, lrl, …)
// on the right axis, both logarithmic, one colour per curve, with a legend.
//
// Graphs: graph 0 is the loss (left axis, named "loss"), then one per lr group (right axis, named
// "lr <group>") in the group order of TrainSeries::lr (std::map: by name). Keys are steps.
//
// A logarithmic axis cannot show zero or negative values: a loss or learning rate that is not
// positive (or not finite) is skipped, so that graph has no point at that step. The step itself is
// still part of the series (a later step must come after it). Every other point is the series'
// value, unchanged.
//
// GUI thread only; the QCustomPlot is owned by the view.
class TrainingView : public QWidget
{
    Q_OBJECT

public:
    explicit TrainingView(QWidget *parent = nullptr);
    ~TrainingView() override;

    // The run's training series (RunReader::train()). Rebuilds the graphs: one for the loss and
    // one per lr group of the series.
    void setSeries(const TrainSeries &series);

    // A live run's new step: adds one point to each graph (none where the value is not positive)
    // and queues a repaint, without rebuilding the graphs. Returns false (and changes nothing)
    // when the step does not come after the last one or lrs does not name exactly the series'
    // lr groups.
    bool appendStep(std::int64_t step, double loss, const std::map<std::string, double> &lrs);

    // The lr groups shown, in graph order (graph 1 + i is groups()[i]).
    const std::vector<std::string> &groups() const { return m_groups; }

    // Axes follow the data (with a small margin) until the user drags or zooms; a double click
    // returns to following the data.
    void rescaleToData();

    QCustomPlot *plot() const { return m_plot; }

private:
    void rebuild(const TrainSeries &series);

    QCustomPlot *m_plot = nullptr;
    QCPGraph *m_loss = nullptr;
    std::vector<QCPGraph *> m_lrs; // parallel to m_groups
    std::vector<std::string> m_groups;
    bool m_hasStep = false;
    std::int64_t m_lastStep = 0;
    bool m_followData = true;
};

} // namespace mq
