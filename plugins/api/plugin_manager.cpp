#include "plugins/api/plugin_manager.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QJsonObject>
#include <QJsonValue>
#include <QLibrary>
#include <QObject>
#include <QPluginLoader>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>

#include <exception>
#include <utility>

#ifndef MQ_WORKBENCH_VERSION
#error "MQ_WORKBENCH_VERSION must be defined by the build (plugins/api/CMakeLists.txt)"
#endif

namespace mq {

namespace {

const QString kOurIidPrefix = QStringLiteral("org.mqworkbench.");

QString quoted(const QString &text)
{
    return QLatin1Char('"') + text + QLatin1Char('"');
}

QString rebuildHint()
{
    return QStringLiteral("rebuild the plugin against MQ Workbench %1")
        .arg(QStringLiteral(MQ_WORKBENCH_VERSION));
}

// The JSON value as it was written, for messages about wrong values.
QString jsonText(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::String:
        return quoted(value.toString());
    case QJsonValue::Double:
        return QString::number(value.toDouble());
    case QJsonValue::Bool:
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Array:
        return QStringLiteral("an array");
    case QJsonValue::Object:
        return QStringLiteral("an object");
    case QJsonValue::Undefined:
        break;
    }
    return QStringLiteral("nothing");
}

// QPluginLoader's errorString() with the library's path taken out (every message already starts
// with it): "Cannot load library /p/libx.so: (libdep.so: cannot open shared object file: ...)"
// becomes "libdep.so: cannot open shared object file: ...". Unknown wordings pass through.
QString loaderReason(QString text, const QString &file)
{
    text.remove(QStringLiteral("Failed to extract plugin meta data from '%1': ").arg(file));
    text.remove(QStringLiteral("Cannot load library %1: ").arg(file));
    text.replace(QLatin1Char('\'') + file + QLatin1Char('\''), QStringLiteral("the file"));
    text.replace(file, QStringLiteral("the file"));
    text = text.trimmed();
    if (text.startsWith(QLatin1Char('(')) && text.endsWith(QLatin1Char(')')))
        text = text.mid(1, text.size() - 2);
    return text;
}

QString interfaceName(PluginKind kind)
{
    return kind == PluginKind::Method ? QStringLiteral("mq::QuantMethodPlugin")
                                      : QStringLiteral("mq::DeviceBackendPlugin");
}

QString iidOf(PluginKind kind)
{
    return kind == PluginKind::Method ? QStringLiteral(MQ_QUANT_METHOD_PLUGIN_IID)
                                      : QStringLiteral(MQ_DEVICE_BACKEND_PLUGIN_IID);
}

} // namespace

QString pluginKindName(PluginKind kind)
{
    return kind == PluginKind::Method ? QStringLiteral("method") : QStringLiteral("device");
}

PluginManager::PluginManager()
    : m_searchPaths(defaultSearchPaths())
{
}

PluginManager::PluginManager(QStringList searchPaths)
    : m_searchPaths(std::move(searchPaths))
{
}

QStringList PluginManager::defaultSearchPaths()
{
    return defaultSearchPaths(QCoreApplication::instance() ? QCoreApplication::applicationDirPath()
                                                           : QString());
}

QStringList PluginManager::defaultSearchPaths(const QString &applicationDir)
{
    QStringList paths;
    const QString fromEnvironment = qEnvironmentVariable("MQ_PLUGIN_PATH");
    for (const QString &path : fromEnvironment.split(QDir::listSeparator(), Qt::SkipEmptyParts))
        paths << QDir::cleanPath(path);
    if (!applicationDir.isEmpty()) {
        const QDir appDir(applicationDir);
        paths << QDir::cleanPath(appDir.filePath(QStringLiteral("plugins")));
        paths << QDir::cleanPath(appDir.filePath(QStringLiteral("../lib/mq-workbench/plugins")));
    }
    // GenericDataLocation is $XDG_DATA_HOME, or ~/.local/share when that is unset, on Linux.
    const QString dataHome = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation);
    if (!dataHome.isEmpty())
        paths << QDir::cleanPath(dataHome + QStringLiteral("/mq-workbench/plugins"));
    return paths;
}

void PluginManager::setSearchPaths(QStringList searchPaths)
{
    m_searchPaths = std::move(searchPaths);
}

void PluginManager::scan()
{
    m_loaded.clear();
    m_plugins.clear();
    m_failures.clear();

    // A folder or a library reached twice (listed twice, or through a symlink) is looked at once:
    // reporting it as a duplicate of itself would only confuse.
    QSet<QString> seenFolders;
    QSet<QString> seenFiles;
    for (const QString &path : std::as_const(m_searchPaths)) {
        const QFileInfo folder(path);
        if (!folder.isDir())
            continue;
        const QString canonicalFolder = folder.canonicalFilePath();
        if (seenFolders.contains(canonicalFolder))
            continue;
        seenFolders.insert(canonicalFolder);

        const QFileInfoList entries =
            QDir(folder.absoluteFilePath()).entryInfoList(QDir::Files, QDir::Name);
        for (const QFileInfo &entry : entries) {
            if (!QLibrary::isLibrary(entry.fileName()))
                continue;
            const QString canonicalFile = entry.canonicalFilePath();
            if (seenFiles.contains(canonicalFile))
                continue;
            seenFiles.insert(canonicalFile);
            consider(entry.absoluteFilePath());
        }
    }
}

void PluginManager::fail(const QString &file, const QString &what)
{
    m_failures.append(PluginFailure{file, file + QStringLiteral(": ") + what});
}

const PluginManager::Loaded *PluginManager::find(PluginKind kind, const QString &id) const
{
    for (const Loaded &loaded : m_loaded) {
        if (loaded.info.kind == kind && loaded.info.id == id)
            return &loaded;
    }
    return nullptr;
}

// Every check that the metadata allows happens before instance(): a library built against
// another API would otherwise run its static initialisers, and then crash on a vtable mismatch.
void PluginManager::consider(const QString &file)
{
    QPluginLoader loader(file);
    const QJsonObject meta = loader.metaData();
    if (meta.isEmpty()) {
        const QString reason = loaderReason(loader.errorString(), file);
        fail(file, QStringLiteral("not a Qt plugin: %1; only plugins belong in this folder")
                       .arg(reason.isEmpty() ? QStringLiteral("it has no plugin metadata")
                                             : reason));
        return;
    }

    const QString iid = meta.value(QStringLiteral("IID")).toString();
    if (!iid.startsWith(kOurIidPrefix)) {
        fail(file, QStringLiteral("a Qt plugin for another application (interface %1), not an MQ "
                                  "Workbench plugin; move it out of this folder")
                       .arg(quoted(iid)));
        return;
    }

    const QJsonValue metaDataValue = meta.value(QStringLiteral("MetaData"));
    const QJsonObject metaData = metaDataValue.toObject();
    if (!metaDataValue.isObject() || metaData.isEmpty()) {
        fail(file, QStringLiteral("has no metadata JSON; declare Q_PLUGIN_METADATA(IID ... FILE "
                                  "\"plugin.json\") with apiVersion, kind, id, name and version "
                                  "(see docs/plugins.md)"));
        return;
    }

    const QJsonValue apiValue = metaData.value(QStringLiteral("apiVersion"));
    if (apiValue.isUndefined()) {
        fail(file, QStringLiteral("the metadata has no \"apiVersion\"; this build supports plugin "
                                  "API version %1")
                       .arg(kPluginApiVersion));
        return;
    }
    const double apiNumber = apiValue.toDouble(-1.0);
    if (!apiValue.isDouble() || apiNumber != static_cast<double>(static_cast<int>(apiNumber))) {
        fail(file, QStringLiteral("\"apiVersion\" must be a whole number, got %1")
                       .arg(jsonText(apiValue)));
        return;
    }
    const int apiVersion = static_cast<int>(apiNumber);
    if (apiVersion != kPluginApiVersion) {
        fail(file, QStringLiteral("plugin API version %1, this build supports %2; %3")
                       .arg(apiVersion)
                       .arg(kPluginApiVersion)
                       .arg(rebuildHint()));
        return;
    }

    PluginKind iidKind;
    if (iid == iidOf(PluginKind::Method)) {
        iidKind = PluginKind::Method;
    } else if (iid == iidOf(PluginKind::Device)) {
        iidKind = PluginKind::Device;
    } else {
        fail(file, QStringLiteral("declares interface %1, which this build does not know (it "
                                  "knows %2 and %3); %4")
                       .arg(quoted(iid), iidOf(PluginKind::Method), iidOf(PluginKind::Device),
                            rebuildHint()));
        return;
    }

    const QJsonValue kindValue = metaData.value(QStringLiteral("kind"));
    const QString kindText = kindValue.toString();
    if (kindText != pluginKindName(PluginKind::Method)
        && kindText != pluginKindName(PluginKind::Device)) {
        fail(file, QStringLiteral("\"kind\" must be \"method\" or \"device\", got %1")
                       .arg(jsonText(kindValue)));
        return;
    }
    if (kindText != pluginKindName(iidKind)) {
        fail(file, QStringLiteral("the metadata says kind \"%1\" but the plugin declares %2, which "
                                  "is a %3 plugin; make them agree")
                       .arg(kindText, iid, pluginKindName(iidKind)));
        return;
    }

    QStringList missing;
    for (const char *field : {"id", "name", "version"}) {
        const QJsonValue value = metaData.value(QLatin1String(field));
        if (!value.isString() || value.toString().trimmed().isEmpty())
            missing << quoted(QLatin1String(field));
    }
    if (!missing.isEmpty()) {
        fail(file, QStringLiteral("the metadata lacks %1 (or %2 empty); every plugin needs a "
                                  "non-empty \"id\", \"name\" and \"version\" "
                                  "(see docs/plugins.md)")
                       .arg(missing.join(QStringLiteral(", ")),
                            missing.size() == 1 ? QStringLiteral("it is")
                                                : QStringLiteral("they are")));
        return;
    }

    PluginInfo info;
    info.file = file;
    info.kind = iidKind;
    info.id = metaData.value(QStringLiteral("id")).toString();
    info.name = metaData.value(QStringLiteral("name")).toString();
    info.version = metaData.value(QStringLiteral("version")).toString();
    info.description = metaData.value(QStringLiteral("description")).toString();

    // Ids name methods on the command line and in run files, so they stay plain.
    static const QRegularExpression idPattern(QStringLiteral("^[a-z0-9][a-z0-9._-]*$"));
    if (!idPattern.match(info.id).hasMatch()) {
        fail(file, QStringLiteral("id %1 may only contain lower-case letters, digits, '.', '_' and "
                                  "'-', and must start with a letter or digit")
                       .arg(quoted(info.id)));
        return;
    }

    if (const Loaded *first = find(info.kind, info.id)) {
        fail(file, QStringLiteral("%1 id %2 is already taken by %3, which comes earlier in the "
                                  "search path; this one is ignored")
                       .arg(pluginKindName(info.kind), quoted(info.id), first->info.file));
        return;
    }

    // A plugin's static initialisers and its first calls run here; an exception from them is
    // reported, not let through to the application.
    QObject *instance = nullptr;
    Loaded loaded;
    loaded.info = info;
    QString reportedId;
    try {
        instance = loader.instance();
        if (instance && info.kind == PluginKind::Method) {
            loaded.method = qobject_cast<QuantMethodPlugin *>(instance);
            if (loaded.method)
                reportedId = loaded.method->id();
        } else if (instance) {
            loaded.device = qobject_cast<DeviceBackendPlugin *>(instance);
            if (loaded.device)
                reportedId = loaded.device->id();
        }
    } catch (const std::exception &error) {
        fail(file, QStringLiteral("threw while loading: %1").arg(QString::fromUtf8(error.what())));
        return;
    } catch (...) {
        fail(file, QStringLiteral("threw an unknown exception while loading"));
        return;
    }
    if (!instance) {
        QString reason = loaderReason(loader.errorString(), file);
        if (reason.contains(QLatin1String("cannot open shared object file")))
            reason += QStringLiteral(" (a library the plugin needs is not installed, or not on "
                                     "the library path)");
        fail(file, QStringLiteral("could not be loaded: %1").arg(reason));
        return;
    }
    if (!loaded.method && !loaded.device) {
        fail(file, QStringLiteral("declares %1 but its plugin object (%2) does not implement %3; "
                                  "add Q_INTERFACES(%3) to the class")
                       .arg(iid, QString::fromLatin1(instance->metaObject()->className()),
                            interfaceName(info.kind)));
        loader.unload();
        return;
    }
    if (reportedId != info.id) {
        fail(file, QStringLiteral("the metadata says id %1 but the plugin object reports %2; make "
                                  "them equal")
                       .arg(quoted(info.id), quoted(reportedId)));
        loader.unload();
        return;
    }

    m_loaded.append(loaded);
    m_plugins.append(info);
}

QList<const QuantMethodPlugin *> PluginManager::methods() const
{
    QList<const QuantMethodPlugin *> result;
    for (const Loaded &loaded : m_loaded) {
        if (loaded.method)
            result.append(loaded.method);
    }
    return result;
}

QList<const DeviceBackendPlugin *> PluginManager::devices() const
{
    QList<const DeviceBackendPlugin *> result;
    for (const Loaded &loaded : m_loaded) {
        if (loaded.device)
            result.append(loaded.device);
    }
    return result;
}

const QuantMethodPlugin *PluginManager::method(const QString &id) const
{
    const Loaded *loaded = find(PluginKind::Method, id);
    return loaded ? loaded->method : nullptr;
}

const DeviceBackendPlugin *PluginManager::device(const QString &id) const
{
    const Loaded *loaded = find(PluginKind::Device, id);
    return loaded ? loaded->device : nullptr;
}

} // namespace mq
