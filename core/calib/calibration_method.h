#pragma once

#include <string>

namespace mq {

// Provided by the calibration Session (a later issue): the model, the calibration data, the
// event sink and the stop token a method works with. Only a reference crosses this interface.
class CalibrationContext;

// One calibration method (RTN, SmoothQuant, block-wise, MobileQuant end-to-end...), configured
// once by its plugin's createMethod() and then run once.
//
// Ownership and threads: the object is created on the thread that owns the PluginManager (the GUI
// or CLI main thread) and handed to the Session, which owns it from then on. run() is called on
// the session's worker thread, which is the only thread that touches tensors; the method must not
// start threads of its own that touch them. Exceptions thrown by run() are caught by the session
// at the thread boundary and shown to the user, so their messages must be meant for a person.
//
// Plain C++ on purpose: no Qt and no LibTorch type here, so that both the Qt plugin API and the
// LibTorch-based core can include this header.
class CalibrationMethod
{
public:
    virtual ~CalibrationMethod() = default;

    // The id of the plugin that made it ("mobilequant", "rtn"); recorded in run files.
    virtual std::string id() const = 0;

    // Calibrates the session's model in place. Must return soon after the context's stop token
    // is set.
    virtual void run(CalibrationContext &context) = 0;
};

} // namespace mq
