#include "threadpool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GRAFT_PAUSE() _mm_pause()
#else
#define GRAFT_PAUSE() std::this_thread::yield()
#endif

namespace graft {

int thread_count() {
  static const int n = [] {
    const char* v = std::getenv("GRAFT_THREADS");
    if (v != nullptr && *v != '\0') {
      char* end = nullptr;
      const long t = std::strtol(v, &end, 10);
      if (end != v && *end == '\0' && t >= 1) return static_cast<int>(t < 256 ? t : 256);
    }
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(hw);
  }();
  return n;
}

namespace {

// How long an idle worker polls for the next job before it sleeps on the condition variable.
constexpr auto kSpin = std::chrono::microseconds(200);

thread_local bool t_inside_job = false;

class Pool {
 public:
  explicit Pool(int workers) {
    threads_.reserve(workers);
    for (int i = 0; i < workers; i++) threads_.emplace_back([this, i] { loop(i + 1); });
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      generation_.fetch_add(1 << 16, std::memory_order_release);
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  int workers() const { return static_cast<int>(threads_.size()); }

  // Precondition: the caller holds busy_ and 1 < nth <= workers() + 1.
  void run(int nth, TaskFn fn, void* ctx) {
    fn_ = fn;
    ctx_ = ctx;
    pending_.store(nth - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mu_);
      // The job word carries nth with the generation, so a worker that wakes late for an old job reads a
      // consistent pair and never joins a job it was not counted in.
      const uint64_t gen = (generation_.load(std::memory_order_relaxed) >> 16) + 1;
      generation_.store((gen << 16) | static_cast<uint64_t>(nth), std::memory_order_release);
    }
    cv_.notify_all();
    t_inside_job = true;
    fn(ctx, 0, nth);
    t_inside_job = false;
    while (pending_.load(std::memory_order_acquire) != 0) GRAFT_PAUSE();
  }

  std::mutex busy;

 private:
  void loop(int ith) {
    t_inside_job = true;  // a kernel calling parallel_run from a worker runs inline
    uint64_t seen = 0;
    for (;;) {
      uint64_t gen = generation_.load(std::memory_order_acquire);
      if (gen == seen) {
        const auto until = std::chrono::steady_clock::now() + kSpin;
        for (int spins = 0; gen == seen; spins++) {
          GRAFT_PAUSE();
          gen = generation_.load(std::memory_order_acquire);
          if ((spins & 63) == 63 && std::chrono::steady_clock::now() > until) break;
        }
        if (gen == seen) {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
          gen = generation_.load(std::memory_order_acquire);
        }
      }
      seen = gen;
      if (stop_) return;
      const int nth = static_cast<int>(gen & 0xffff);
      if (ith < nth) {
        fn_(ctx_, ith, nth);
        pending_.fetch_sub(1, std::memory_order_acq_rel);
      }
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};  // (generation << 16) | nth of the current job
  std::atomic<int> pending_{0};
  bool stop_ = false;
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
};

Pool& pool() {
  // Leaked on purpose: joining threads from a static destructor at process exit can hang, and the OS reclaims them.
  static Pool* p = new Pool(thread_count() - 1);
  return *p;
}

}  // namespace

void parallel_run_raw(int nth, TaskFn fn, void* ctx) {
  const int max = thread_count();
  if (nth > max) nth = max;
  if (nth <= 1 || t_inside_job) {
    // Single-threaded: run the whole job as one task so the kernel's split stays valid.
    fn(ctx, 0, 1);
    return;
  }
  Pool& p = pool();
  std::unique_lock<std::mutex> lock(p.busy, std::try_to_lock);
  if (!lock.owns_lock()) {
    fn(ctx, 0, 1);
    return;
  }
  p.run(nth, fn, ctx);
}

}  // namespace graft
