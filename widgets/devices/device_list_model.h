#pragma once

#include "core/device/device_backend.h"

#include <QAbstractTableModel>

#include <vector>

namespace mq {

// The devices a back-end sees, one row each: serial, state, model, ABI, Android, battery, charging.
// A device that is not ready carries adb's advice as the row's tooltip. GUI thread only.
class DeviceListModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { Serial, State, Model, Abi, Android, Battery, Charging, ColumnCount };

    using QAbstractTableModel::QAbstractTableModel;

    void setDevices(std::vector<DeviceInfo> devices);
    const std::vector<DeviceInfo> &devices() const { return m_devices; }
    // Row of `serial`, or -1.
    int rowOf(const QString &serial) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::vector<DeviceInfo> m_devices;
};

} // namespace mq
