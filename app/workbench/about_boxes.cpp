#include "app/workbench/about_boxes.h"

#include "app/workbench/versions.h"
#include "plugins/api/plugin_manager.h"

#include <QMessageBox>

namespace mq {

void showAboutBox(QWidget *parent)
{
    QMessageBox::about(parent, QObject::tr("About MQ Workbench"),
        QObject::tr("<h3>MQ Workbench %1</h3><p>Post-training quantization of small language models "
                    "for phones with MobileQuant (arXiv 2408.13933).</p>"
                    "<p>Qt %2<br>LibTorch %3<br>HDF5 %4</p>")
            .arg(workbenchVersion(), qtVersion(), torchVersion(), hdf5Version()));
}

void showPluginsBox(QWidget *parent, const PluginManager &plugins)
{
    QString text = QObject::tr("<p>Search folders:<br>%1</p><p><b>Loaded</b></p><ul>")
                       .arg(plugins.searchPaths().join(QStringLiteral("<br>")).toHtmlEscaped());
    for (const PluginInfo &p : plugins.plugins())
        text += QStringLiteral("<li>%1 — %2 %3 (%4)</li>")
                    .arg(p.id.toHtmlEscaped(), p.name.toHtmlEscaped(), p.version.toHtmlEscaped(),
                        p.file.toHtmlEscaped());
    text += QStringLiteral("</ul>");
    if (!plugins.failures().isEmpty()) {
        text += QObject::tr("<p><b>Not loaded</b></p><ul>");
        for (const PluginFailure &f : plugins.failures())
            text += QStringLiteral("<li>%1</li>").arg(f.message.toHtmlEscaped());
        text += QStringLiteral("</ul>");
    }
    QMessageBox::information(parent, QObject::tr("Plugins"), text);
}

} // namespace mq
