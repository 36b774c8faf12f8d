// Renders each analysis view from real run files into PNGs, to look at them as a user would:
//   widget_view_shots OUT_DIR RUN.h5 [MORE_RUNS.h5 ...] [--site SITE] [--threshold T]
// The first run fills the outlier inspector (its first watched site, or --site NAME), the
// transform scales and the weight ranges; all runs fill the comparison and the ablation.
// Not a test: run it under QT_QPA_PLATFORM=offscreen or xvfb-run.

#include "core/store/run_reader.h"
#include "core/util/error.h"
#include "widgets/ablation_view.h"
#include "widgets/outlier_inspector.h"
#include "widgets/run_comparison_view.h"
#include "widgets/run_list_model.h"
#include "widgets/transform_scale_view.h"
#include "widgets/weight_range_view.h"

#include "widgets/qcustomplot_include.h"

#include <QApplication>
#include <QDir>
#include <QPixmap>

#include <cmath>
#include <cstdio>
#include <vector>

namespace {

bool save(QWidget &view, const QString &dir, const QString &name, QSize size)
{
    view.resize(size);
    view.show();
    QApplication::processEvents();
    for (QCustomPlot *plot : view.findChildren<QCustomPlot *>())
        plot->replot(QCustomPlot::rpImmediateRefresh);
    const QString path = QDir(dir).filePath(name);
    const bool ok = view.grab().save(path);
    std::printf("%s %s\n", ok ? "wrote" : "FAILED", qPrintable(path));
    return ok;
}

} // namespace

int main(int argc, char **argv)
{
    if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QStringList args = app.arguments().mid(1);
    QString site;
    const int siteFlag = int(args.indexOf(QStringLiteral("--site")));
    if (siteFlag >= 0 && siteFlag + 1 < args.size()) {
        site = args[siteFlag + 1];
        args.remove(siteFlag, 2);
    }
    double threshold = mq::kDefaultOutlierThreshold;
    const int thresholdFlag = int(args.indexOf(QStringLiteral("--threshold")));
    if (thresholdFlag >= 0 && thresholdFlag + 1 < args.size()) {
        threshold = args[thresholdFlag + 1].toDouble();
        args.remove(thresholdFlag, 2);
    }
    if (args.size() < 2) {
        std::fprintf(stderr, "usage: widget_view_shots OUT_DIR RUN.h5 [MORE_RUNS.h5 ...] [--site SITE] [--threshold T]\n");
        return 2;
    }
    const QString out = args.takeFirst();
    QDir().mkpath(out);
    try {
        const mq::RunReader first = mq::RunReader::open(args.front().toStdString());
        const auto &header = first.header();
        if (site.isEmpty() && !header.histograms.empty())
            site = QString::fromStdString(header.histograms.front().site);
        auto hasGroup = [&](const char *g) {
            for (const auto &spec : header.vectorGroups)
                if (spec.name == g)
                    return true;
            return false;
        };
        bool ok = true;

        mq::OutlierInspector inspector;
        inspector.setThreshold(threshold);
        inspector.loadFromRun(first, site.toStdString());
        ok &= save(inspector, out, QStringLiteral("outlier_inspector.png"), QSize(1100, 820));
        inspector.setLogCounts(true);
        inspector.setTransformMode(mq::OutlierInspector::TransformMode::After);
        ok &= save(inspector, out, QStringLiteral("outlier_inspector_log_after.png"), QSize(1100, 820));
        // A synthetic site with a range narrower than its values and a few large channels, to see
        // the clipped-mass shading and the outlier marking that stories260K rarely shows.
        mq::OutlierSiteData synthetic;
        synthetic.site = "layers.0.attn_norm.out (synthetic)";
        synthetic.step = 0;
        synthetic.bits = 8;
        synthetic.fmin = -2.5f;
        synthetic.fmax = 2.0f;
        synthetic.hasRange = true;
        for (int b = 0; b <= 120; ++b)
            synthetic.edges.push_back(-4.0f + 0.06f * float(b));
        for (int b = 0; b < 120; ++b) {
            const double x = -4.0 + 0.06 * (b + 0.5);
            synthetic.counts.push_back(std::uint64_t(20000.0 * std::exp(-x * x / 1.2) + 40.0 * std::exp(-std::abs(x))));
        }
        for (int c = 0; c < 64; ++c)
            synthetic.channelMaxAbs.push_back(c == 9 ? 14.0f : c == 40 ? 9.5f : 1.0f + 0.6f * float((c * 37) % 11) / 11.0f);
        synthetic.pair = "layers.0.qkv";
        for (int c = 0; c < 64; ++c)
            synthetic.pairScale.push_back(c == 9 ? 7.0f : c == 40 ? 5.0f : 1.0f);
        mq::OutlierInspector synth;
        synth.setData(synthetic);
        ok &= save(synth, out, QStringLiteral("outlier_inspector_synthetic.png"), QSize(1100, 820));

        mq::OutlierInspector unwatched;
        unwatched.loadFromRun(first, "layers.0.mlp.up.out");
        ok &= save(unwatched, out, QStringLiteral("outlier_inspector_unwatched.png"), QSize(900, 600));

        mq::TransformScaleView scales;
        if (hasGroup("scales"))
            scales.setSeries(first.vectors("scales"));
        ok &= save(scales, out, QStringLiteral("transform_scales.png"), QSize(1000, 760));
        scales.setLogScale(true);
        ok &= save(scales, out, QStringLiteral("transform_scales_log.png"), QSize(1000, 760));

        mq::WeightRangeView weights;
        weights.setSeries(hasGroup("weight_ranges") ? first.vectors("weight_ranges") : mq::VectorSeries {},
            hasGroup("clipping") ? first.vectors("clipping") : mq::VectorSeries {});
        weights.setWeightSite(QStringLiteral("layers.0.attn.q.weight"));
        ok &= save(weights, out, QStringLiteral("weight_ranges.png"), QSize(1000, 560));

        mq::RunComparisonView comparison;
        std::vector<mq::RunSummary> summaries;
        for (const QString &path : args) {
            const QString error = comparison.addRunFile(path);
            if (!error.isEmpty())
                std::fprintf(stderr, "%s\n", qPrintable(error));
            summaries.push_back(mq::RunSummary::read(path.toStdString()));
        }
        ok &= save(comparison, out, QStringLiteral("run_comparison_loss.png"), QSize(1000, 560));
        comparison.setMode(mq::RunComparisonView::Mode::Range);
        comparison.setRangeSite(site.isEmpty() ? QStringLiteral("layers.0.mlp.down.in") : site);
        ok &= save(comparison, out, QStringLiteral("run_comparison_range.png"), QSize(1000, 560));

        mq::AblationView ablation;
        ablation.setRuns(summaries);
        ok &= save(ablation, out, QStringLiteral("ablation.png"), QSize(1300, 600));
        return ok ? 0 : 1;
    } catch (const mq::Error &e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
