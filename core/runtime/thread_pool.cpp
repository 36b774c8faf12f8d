#include "core/runtime/thread_pool.h"

#include <exception>

namespace mq::kernels {

ThreadPool::~ThreadPool()
{
    stopWorkers();
}

void ThreadPool::stopWorkers()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    for (std::thread &t : m_workers)
        t.join();
    m_workers.clear();
    m_stop = false;
}

void ThreadPool::resize(int threads)
{
    if (threads < 1)
        threads = 1;
    if (threads == size())
        return;
    stopWorkers();
    for (int i = 1; i < threads; ++i)
        m_workers.emplace_back([this] { workerLoop(); });
}

// Takes task indices until none are left; `lock` holds m_mutex and is released around each task.
void ThreadPool::drain(std::unique_lock<std::mutex> &lock)
{
    while (m_next < m_count) {
        const int i = m_next++;
        const std::function<void(int)> *task = m_task;
        lock.unlock();
        std::exception_ptr error;
        try {
            (*task)(i);
        } catch (...) {
            error = std::current_exception();
        }
        lock.lock();
        if (error && !m_error)
            m_error = error;
        if (++m_finished == m_count)
            m_done.notify_all();
    }
}

void ThreadPool::workerLoop()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    std::uint64_t seen = m_generation;
    for (;;) {
        m_wake.wait(lock, [&] { return m_stop || m_generation != seen; });
        if (m_stop)
            return;
        seen = m_generation;
        drain(lock);
    }
}

void ThreadPool::run(int count, const std::function<void(int)> &task)
{
    if (count <= 0)
        return;
    if (m_workers.empty() || count == 1) {
        for (int i = 0; i < count; ++i)
            task(i);
        return;
    }
    std::unique_lock<std::mutex> lock(m_mutex);
    m_task = &task;
    m_count = count;
    m_next = 0;
    m_finished = 0;
    m_error = nullptr;
    ++m_generation;
    m_wake.notify_all();
    drain(lock);
    m_done.wait(lock, [&] { return m_finished == m_count; });
    m_task = nullptr;
    m_count = 0;
    std::exception_ptr error = m_error;
    m_error = nullptr;
    lock.unlock();
    if (error)
        std::rethrow_exception(error);
}

ThreadPool &pool()
{
    static ThreadPool instance;
    return instance;
}

} // namespace mq::kernels
