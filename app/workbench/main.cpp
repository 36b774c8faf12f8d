// mq-workbench: the desktop window. See docs/workbench.md.
#include "app/workbench/calibration_panel.h"
#include "app/workbench/main_window.h"
#include "app/workbench/run_display.h"
#include "app/workbench/versions.h"
#include "core/util/process_env.h"
#include "plugins/api/plugin_manager.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QTimer>

#include <cstdio>
#include <memory>

int main(int argc, char **argv)
{
    // LibTorch's OpenMP pool must wait passively, or its spinning threads take the cores the
    // GUI thread needs (core/util/process_env.h has the measurements).
    mq::ensurePassiveOpenMpWait(argv);

    // --help and --version print and exit: they must work without a display, so no QApplication.
    bool textOnly = false;
    for (int i = 1; i < argc; ++i) {
        const QByteArray a(argv[i]);
        textOnly = textOnly || a == "-h" || a == "--help" || a == "--help-all" || a == "-v" || a == "--version";
    }
    std::unique_ptr<QCoreApplication> app
        = textOnly ? std::make_unique<QCoreApplication>(argc, argv) : std::make_unique<QApplication>(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("mq-workbench"));
    QCoreApplication::setApplicationName(QStringLiteral("mq-workbench"));
    QCoreApplication::setApplicationVersion(
        QStringLiteral("%1 (Qt %2, LibTorch %3, HDF5 %4)")
            .arg(mq::workbenchVersion(), mq::qtVersion(), mq::torchVersion(), mq::hdf5Version()));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "MQ Workbench: calibrate small language models with MobileQuant and watch what quantization does "
        "inside them (docs/workbench.md)."));
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption model(QStringLiteral("model"),
        QStringLiteral("Open this checkpoint (llama2.c .bin or a Hugging Face folder)."), QStringLiteral("PATH"));
    QCommandLineOption openRun(QStringLiteral("open-run"),
        QStringLiteral("Open a run file (repeatable; the last one is shown)."), QStringLiteral("FILE"));
    QCommandLineOption openFolder(
        QStringLiteral("open-folder"), QStringLiteral("Open every run file in a folder."), QStringLiteral("DIR"));
    QCommandLineOption site(QStringLiteral("site"),
        QStringLiteral("Select this site in the tree (e.g. layers.0.mlp.down.in); repeatable: the first is inspected, "
                       "all are drawn in the range view."),
        QStringLiteral("SITE"));
    QCommandLineOption calib(
        QStringLiteral("calib"), QStringLiteral("Calibration text for the form."), QStringLiteral("FILE"));
    QCommandLineOption eval(QStringLiteral("eval"),
        QStringLiteral("Evaluation text for the form (perplexity after the run)."), QStringLiteral("FILE"));
    QCommandLineOption runFile(QStringLiteral("run-file"),
        QStringLiteral("The run file the next calibration records to."), QStringLiteral("FILE"));
    QCommandLineOption shots(QStringLiteral("screenshot-dir"),
        QStringLiteral("Save a PNG of the window and of every view into DIR, then quit."), QStringLiteral("DIR"));
    QCommandLineOption fresh(QStringLiteral("no-restore"),
        QStringLiteral("Start with the default layout and form "
                       "(do not restore the saved settings)."));
    parser.addOptions({ model, calib, eval, runFile, openRun, openFolder, site, shots, fresh });
    parser.process(*app);

    mq::PluginManager plugins;
    plugins.scan();
    mq::MainWindow window(plugins);
    const bool screenshots = parser.isSet(shots);
    if (!parser.isSet(fresh) && !screenshots)
        window.restoreSettings();
    if (screenshots) {
        window.setInteractive(false);
        // Large enough that every plot in the screenshots has room for its axes and legend.
        window.resize(1800, 1120);
    }
    if (plugins.methods().isEmpty())
        std::fprintf(stderr, "mq-workbench: no method plugins found in %s\n",
            qPrintable(plugins.searchPaths().join(QStringLiteral(", "))));

    if (parser.isSet(model))
        window.openModel(parser.value(model));
    if (parser.isSet(calib))
        window.calibrationPanel()->setCalibPath(parser.value(calib));
    if (parser.isSet(eval))
        window.calibrationPanel()->setEvalPath(parser.value(eval));
    if (parser.isSet(runFile))
        window.calibrationPanel()->setRunPath(parser.value(runFile));
    for (const QString &dir : parser.values(openFolder))
        window.openRunFolder(dir);
    const QStringList runs = parser.values(openRun);
    for (int i = 0; i < runs.size(); ++i)
        window.openRun(runs[i], i == runs.size() - 1);
    // The first --site is the inspector's; all of them are drawn in the range view.
    const QStringList sites = parser.values(site);
    if (!sites.isEmpty())
        window.selectSites(sites);
    window.show();

    if (screenshots) {
        const QString dir = parser.value(shots);
        // Let the layout settle and the queued replots run before grabbing.
        QTimer::singleShot(1500, &window, [&window, dir] {
            const QStringList files = window.saveScreenshots(dir);
            for (const QString &f : files)
                std::printf("%s\n", qPrintable(f));
            if (!window.lastError().isEmpty())
                std::fprintf(stderr, "mq-workbench: %s\n", qPrintable(window.lastError()));
            QApplication::exit(files.isEmpty() ? 1 : 0);
        });
    }
    return app->exec();
}
