#pragma once

#include "core/device/results.h"

#include <QWidget>

class QCustomPlot;
class QComboBox;

namespace mq {

// The plots of one device benchmark: latency per phase (prompt, per-token decode) with 95 %
// confidence intervals as error bars, energy per token (above idle) with error bars, the power
// trace of a chosen variant over time with its phase marks, and the temperature of every variant
// over time. Figures from a virtual phone are titled "simulated". Export: PNG/PDF per plot
// (exportPlot) and CSV of the statistics (resultsCsv). GUI thread only.
class BenchmarkPlots : public QWidget
{
    Q_OBJECT

public:
    explicit BenchmarkPlots(QWidget *parent = nullptr);

    void setReport(const device::BenchmarkReport &report);
    const device::BenchmarkReport &report() const { return m_report; }

    QCustomPlot *latencyPlot() const { return m_latency; }
    QCustomPlot *energyPlot() const { return m_energy; }
    QCustomPlot *powerPlot() const { return m_power; }
    QCustomPlot *temperaturePlot() const { return m_temperature; }

    // Writes <stem>-latency.<ext>, -energy, -power, -temperature (ext png or pdf) and <stem>.csv.
    // Returns the error messages (empty on success).
    QStringList exportAll(const QString &directory, const QString &stem, const QString &imageExtension);

    // Shows the power trace of variant `index`.
    void showPowerTrace(int index);

private:
    void plotLatency();
    void plotEnergy();
    void plotTemperature();

    device::BenchmarkReport m_report;
    QCustomPlot *m_latency = nullptr;
    QCustomPlot *m_energy = nullptr;
    QCustomPlot *m_power = nullptr;
    QCustomPlot *m_temperature = nullptr;
    QComboBox *m_variantChoice = nullptr;
};

} // namespace mq
