#pragma once

#include <QString>

class QCustomPlot;

namespace mq {

// Saves a plot as PNG or PDF, chosen by the file's extension (case-insensitive: .png, .pdf), at
// the plot's on-screen size (800 × 500 when it has not been laid out yet). Returns an empty
// string on success, else a message that names the file and says what to do, e.g.
// "/tmp/ranges.svg: unsupported file type \"svg\"; use .png or .pdf". GUI thread only.
QString exportPlot(QCustomPlot *plot, const QString &path);

} // namespace mq
