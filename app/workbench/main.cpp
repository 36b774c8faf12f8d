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
#include <QFile>
#include <QFileInfo>
#include <QTimer>

#include <cmath>
#include <cstdio>
#include <memory>

namespace {

// What a path given on the command line (the desktop file's %F, a file manager's "Open with")
// stands for. Run files are HDF5 (docs/run-file.md); packages start with the magic "MQPKG"
// (docs/package-format.md); a folder is a Hugging Face checkpoint when it has config.json,
// otherwise a folder of run files.
enum class PathKind { Missing, RunFile, RunFolder, Package, Model };

PathKind classifyPath(const QString &path)
{
    const QFileInfo info(path);
    if (!info.exists())
        return PathKind::Missing;
    if (info.isDir())
        return QFileInfo::exists(QDir(path).filePath(QStringLiteral("config.json"))) ? PathKind::Model
                                                                                     : PathKind::RunFolder;
    const QString name = info.fileName().toLower();
    if (name.endsWith(QLatin1String(".mqpkg")))
        return PathKind::Package;
    if (name.endsWith(QLatin1String(".h5")) || name.endsWith(QLatin1String(".hdf5"))
        || name.endsWith(QLatin1String(".mqrun")))
        return PathKind::RunFile;
    QFile f(path);
    if (f.open(QIODevice::ReadOnly)) {
        const QByteArray head = f.read(8);
        if (head.startsWith("MQPKG"))
            return PathKind::Package;
        if (head == QByteArray("\x89HDF\r\n\x1a\n", 8))
            return PathKind::RunFile;
    }
    return PathKind::Model;
}

} // namespace

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
    QCommandLineOption quitAfter(QStringLiteral("quit-after"),
        QStringLiteral("Quit SECONDS after the window was shown (a smoke test): exit code 0, or 1 when a file "
                       "given on the command line could not be opened. Errors go to stderr, not to message "
                       "boxes."),
        QStringLiteral("SECONDS"));
    parser.addOptions({ model, calib, eval, runFile, openRun, openFolder, site, shots, fresh, quitAfter });
    parser.addPositionalArgument(QStringLiteral("files"),
        QStringLiteral("Run files (*.h5, *.mqrun, *.mqrun.h5) open as runs, the last one shown; a folder opens "
                       "every run file in it; a model package (*.mqpkg) opens in the package view; a checkpoint (llama2.c "
                       ".bin, a Hugging Face folder with config.json) opens as the model."),
        QStringLiteral("[FILE|FOLDER...]"));
    parser.process(*app);

    double quitSeconds = -1;
    if (parser.isSet(quitAfter)) {
        bool ok = false;
        quitSeconds = parser.value(quitAfter).toDouble(&ok);
        if (!ok || !std::isfinite(quitSeconds) || quitSeconds < 0 || quitSeconds > 86400) {
            std::fprintf(stderr,
                "mq-workbench: --quit-after expects a number of seconds between 0 and 86400, got '%s'\n",
                qPrintable(parser.value(quitAfter)));
            return 1; // as QCommandLineParser does for a bad command line
        }
    }

    mq::PluginManager plugins;
    plugins.scan();
    mq::MainWindow window(plugins);
    const bool screenshots = parser.isSet(shots);
    if (!parser.isSet(fresh) && !screenshots)
        window.restoreSettings();
    // Unattended windows (screenshots, smoke tests) must not wait for someone to close a message box.
    if (screenshots || quitSeconds >= 0)
        window.setInteractive(false);
    if (screenshots) {
        // Large enough that every plot in the screenshots has room for its axes and legend.
        window.resize(1800, 1120);
    }
    if (plugins.methods().isEmpty())
        std::fprintf(stderr, "mq-workbench: no method plugins found in %s\n",
            qPrintable(plugins.searchPaths().join(QStringLiteral(", "))));

    // Every file named on the command line that could not be opened: reported on stderr at once
    // (the window shows it too), and the exit code of --quit-after. What was opened is listed on
    // stdout with --quit-after, for the scripts that start the window that way.
    int failures = 0;
    const bool report = quitSeconds >= 0;
    auto opened = [report](const QString &what) {
        if (report)
            std::printf("mq-workbench: opened %s\n", qPrintable(what));
    };
    QString lastReported; // the window's lastError() already printed: a new failure may not set it
    auto failed = [&failures, &window, &lastReported](const QString &what) {
        ++failures;
        const bool fresh = !window.lastError().isEmpty() && window.lastError() != lastReported;
        const QString why = fresh ? window.lastError() : what;
        lastReported = window.lastError();
        std::fprintf(stderr, "mq-workbench: %s\n", qPrintable(why));
    };
    auto openFolderChecked = [&window, &failed, &opened](const QString &dir) {
        const QString before = window.lastError();
        const int count = window.openRunFolder(dir);
        if (count == 0 || window.lastError() != before)
            failed(QStringLiteral("%1: no run files could be opened").arg(dir));
        else
            opened(QStringLiteral("run folder %1 (%2 run files)").arg(dir).arg(count));
    };
    auto openModelChecked = [&window, &failed, &opened](const QString &path) {
        if (window.openModel(path))
            opened(QStringLiteral("model %1").arg(path));
        else
            failed(QStringLiteral("%1: could not open the model").arg(path));
    };
    if (parser.isSet(model))
        openModelChecked(parser.value(model));
    if (parser.isSet(calib))
        window.calibrationPanel()->setCalibPath(parser.value(calib));
    if (parser.isSet(eval))
        window.calibrationPanel()->setEvalPath(parser.value(eval));
    if (parser.isSet(runFile))
        window.calibrationPanel()->setRunPath(parser.value(runFile));
    for (const QString &dir : parser.values(openFolder))
        openFolderChecked(dir);

    // --open-run files and positional run files; the last one is shown.
    QStringList runs = parser.values(openRun);
    for (const QString &path : parser.positionalArguments()) {
        switch (classifyPath(path)) {
        case PathKind::Missing:
            ++failures;
            std::fprintf(stderr, "mq-workbench: %s: no such file or folder\n", qPrintable(path));
            break;
        case PathKind::RunFile:
            runs << path;
            break;
        case PathKind::RunFolder:
            openFolderChecked(path);
            break;
        case PathKind::Model:
            openModelChecked(path);
            break;
        case PathKind::Package:
            if (window.openPackage(path))
                opened(QStringLiteral("package %1").arg(path));
            else
                failed(QStringLiteral("%1: could not open the package").arg(path));
            break;
        }
    }
    for (int i = 0; i < runs.size(); ++i) {
        if (window.openRun(runs[i], i == runs.size() - 1))
            opened(QStringLiteral("run %1").arg(runs[i]));
        else
            failed(QStringLiteral("%1: could not open the run file").arg(runs[i]));
    }
    // The first --site is the inspector's; all of them are drawn in the range view.
    const QStringList sites = parser.values(site);
    if (!sites.isEmpty())
        window.selectSites(sites);
    window.show();
    // The welcome page greets a plain start, not a window opened on files (a file manager's
    // "Open with", the desktop file's %F) nor an unattended one.
    const bool givenFiles = !parser.positionalArguments().isEmpty() || parser.isSet(model) || parser.isSet(openRun)
        || parser.isSet(openFolder);
    if (!screenshots && !givenFiles)
        window.showWelcomeIfFirstRun();

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
    if (quitSeconds >= 0) {
        // The timer starts once the event loop runs, i.e. after the window was shown and the
        // queued work of opening the files (replots, the runs table) had its turn.
        QTimer::singleShot(int(std::lround(quitSeconds * 1000)), &window, [&window, &failures] {
            window.close();
            QApplication::exit(failures > 0 ? 1 : 0);
        });
    }
    return app->exec();
}
