#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mq::kernels {

// A small persistent pool for the matrix products: workers sleep on a condition variable between
// jobs (no spinning, which costs a lot on a 2-core machine where the other core has work too),
// and the calling thread takes a share of every job itself. One job at a time; run() is called
// from one thread at a time (the kernels' contract).
class ThreadPool
{
public:
    ThreadPool() = default;
    ~ThreadPool();
    ThreadPool(const ThreadPool &) = delete;
    ThreadPool &operator=(const ThreadPool &) = delete;

    // Total threads including the caller (>= 1). Restarts the workers when it changes.
    void resize(int threads);
    int size() const { return static_cast<int>(m_workers.size()) + 1; }

    // Calls task(i) for i in [0, count), spread over the threads; returns when all are done.
    // The first exception a task throws is rethrown here after every task has finished.
    void run(int count, const std::function<void(int)> &task);

private:
    void workerLoop();
    void drain(std::unique_lock<std::mutex> &lock);
    void stopWorkers();

    std::vector<std::thread> m_workers;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    const std::function<void(int)> *m_task = nullptr;
    int m_count = 0;
    int m_next = 0;
    int m_finished = 0;
    std::uint64_t m_generation = 0;
    bool m_stop = false;
    std::exception_ptr m_error;
};

// The runtime's one pool (sized by kernels::setThreads).
ThreadPool &pool();

} // namespace mq::kernels
