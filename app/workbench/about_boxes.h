#pragma once

class QWidget;

namespace mq {

class PluginManager;

// Help > About: the versions of the workbench, Qt, LibTorch and HDF5 (versions.h).
void showAboutBox(QWidget *parent);
// Help > Plugins: the search folders, the plugins loaded and the libraries refused, with why.
void showPluginsBox(QWidget *parent, const PluginManager &plugins);

} // namespace mq
