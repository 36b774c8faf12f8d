#include "widgets/devices/device_list_model.h"

#include <QBrush>
#include <QColor>

namespace mq {

namespace {

QString fact(const DeviceInfo &d, const char *key)
{
    auto it = d.facts.find(key);
    return it == d.facts.end() ? QString() : QString::fromStdString(it->second);
}

} // namespace

void DeviceListModel::setDevices(std::vector<DeviceInfo> devices)
{
    beginResetModel();
    m_devices = std::move(devices);
    endResetModel();
}

int DeviceListModel::rowOf(const QString &serial) const
{
    for (size_t i = 0; i < m_devices.size(); ++i)
        if (QString::fromStdString(m_devices[i].serial) == serial)
            return int(i);
    return -1;
}

int DeviceListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_devices.size());
}

int DeviceListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DeviceListModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const DeviceInfo &d = m_devices[size_t(index.row())];
    if (role == Qt::ToolTipRole) {
        QString tip = fact(d, "advice");
        if (tip.isEmpty())
            tip = fact(d, "error");
        if (fact(d, "simulated") == QLatin1String("yes"))
            tip = tr("A virtual phone (mq-devsim): its battery and temperature figures are simulated.");
        return tip.isEmpty() ? QVariant() : tip;
    }
    if (role == Qt::ForegroundRole && index.column() == State && d.state != "device")
        return QBrush(QColor(0xc0, 0x39, 0x2b));
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Serial:
        return QString::fromStdString(d.serial);
    case State:
        return QString::fromStdString(d.state);
    case Model:
        return QString::fromStdString(d.model);
    case Abi:
        return QString::fromStdString(d.abi);
    case Android:
        return fact(d, "android");
    case Battery: {
        const QString c = fact(d, "battery.capacity");
        return c.isEmpty() ? QString() : c + QLatin1Char('%');
    }
    case Charging:
        return fact(d, "charging");
    default:
        return {};
    }
}

QVariant DeviceListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char *names[] = { "Serial", "State", "Model", "ABI", "Android", "Battery", "Charging" };
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

} // namespace mq
