#pragma once

#include "plugins/api/device_plugin.h"
#include "plugins/api/method_plugin.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace mq {

enum class PluginKind
{
    Method, // a QuantMethodPlugin
    Device, // a DeviceBackendPlugin
};

// "method" or "device": the metadata's "kind" value.
QString pluginKindName(PluginKind kind);

// A plugin that was loaded, as its metadata describes it (for the Plugins dialog and `mq plugins`).
struct PluginInfo
{
    QString file; // absolute path of the library
    PluginKind kind = PluginKind::Method;
    QString id;          // "mobilequant"
    QString name;        // "MobileQuant (end-to-end)"
    QString version;     // the plugin's own version, "1.2.0"
    QString description; // optional; empty when the metadata has none
};

// A library in a plugin folder that was not loaded, and why.
struct PluginFailure
{
    QString file;    // absolute path of the library
    QString message; // for a person, starting with the file: "<file>: <what, what to do>"
};

// Finds, checks and loads the method and device plugins.
//
// scan() goes through the search folders in order (files in a folder by name), reads each
// library's metadata without loading it, and loads only libraries whose metadata passes every
// check (see docs/plugins.md). Every library it skips is reported in failures(); folders that do
// not exist are skipped silently, since most installs have no user plugins.
//
// Threads and ownership: not thread-safe; use it from one thread (the GUI or CLI main thread),
// which is also the thread that calls the plugins. Plugin objects belong to Qt's plugin loader
// and are never unloaded, so the pointers methods() and devices() return stay valid until the
// process exits, also after the manager is gone.
class PluginManager
{
public:
    // Searches defaultSearchPaths(). Call scan() to find the plugins.
    PluginManager();
    explicit PluginManager(QStringList searchPaths);

    PluginManager(const PluginManager &) = delete;
    PluginManager &operator=(const PluginManager &) = delete;

    // In order: the folders in $MQ_PLUGIN_PATH (colon-separated), then next to the executable
    // (<appdir>/plugins in a build tree, <appdir>/../lib/mq-workbench/plugins in an install), then
    // the user folder ($XDG_DATA_HOME/mq-workbench/plugins, by default
    // ~/.local/share/mq-workbench/plugins). Earlier folders win when two plugins share an id.
    // This overload takes the executable's folder from QCoreApplication, and leaves it out when
    // there is no QCoreApplication.
    static QStringList defaultSearchPaths();
    static QStringList defaultSearchPaths(const QString &applicationDir);

    const QStringList &searchPaths() const { return m_searchPaths; }
    // Takes effect at the next scan().
    void setSearchPaths(QStringList searchPaths);

    // Forgets the previous results and searches again. Plugins loaded before stay loaded.
    void scan();

    // Every loaded plugin, in search order.
    const QList<PluginInfo> &plugins() const { return m_plugins; }
    // Every library in the search folders that was not loaded, in search order.
    const QList<PluginFailure> &failures() const { return m_failures; }

    QList<const QuantMethodPlugin *> methods() const;
    QList<const DeviceBackendPlugin *> devices() const;
    // nullptr when no loaded plugin has that id.
    const QuantMethodPlugin *method(const QString &id) const;
    const DeviceBackendPlugin *device(const QString &id) const;

private:
    struct Loaded
    {
        PluginInfo info;
        const QuantMethodPlugin *method = nullptr;
        const DeviceBackendPlugin *device = nullptr;
    };

    void consider(const QString &file);
    void fail(const QString &file, const QString &what);
    const Loaded *find(PluginKind kind, const QString &id) const;

    QStringList m_searchPaths;
    QList<Loaded> m_loaded;
    QList<PluginInfo> m_plugins;
    QList<PluginFailure> m_failures;
};

} // namespace mq
