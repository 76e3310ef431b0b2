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

// A job's shares (ith = 0 .. nth-1) are not tied to threads: every participant, the caller included, claims the
// next unclaimed share until none is left. So a worker the OS has descheduled (this machine is shared) delays
// nothing: the caller takes its shares, closes the job, and waits only for workers that actually joined it.
class Pool {
 public:
  explicit Pool(int workers) {
    threads_.reserve(workers);
    for (int i = 0; i < workers; i++) threads_.emplace_back([this] { loop(); });
  }

  // Precondition: the caller holds `busy` and nth > 1.
  void run(int nth, TaskFn fn, void* ctx) {
    fn_ = fn;
    ctx_ = ctx;
    nth_ = nth;
    next_share_.store(0, std::memory_order_relaxed);
    finished_.store(0, std::memory_order_relaxed);
    gate_.store(0, std::memory_order_release);  // open; publishes fn_, ctx_, nth_ to workers that join
    generation_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    }
    t_inside_job = true;
    run_shares();
    t_inside_job = false;
    // Close the job: workers arriving from now on skip it; wait for those that joined.
    const int64_t joined = gate_.fetch_or(kClosed, std::memory_order_acq_rel) & ~kClosed;
    for (int spins = 0; finished_.load(std::memory_order_acquire) < joined; spins++) {
      GRAFT_PAUSE();
      if ((spins & 1023) == 1023) std::this_thread::yield();
    }
  }

  std::mutex busy;

 private:
  static constexpr int64_t kClosed = int64_t{1} << 40;

  void run_shares() {
    const int nth = nth_;
    for (int s = next_share_.fetch_add(1, std::memory_order_relaxed); s < nth; s = next_share_.fetch_add(1, std::memory_order_relaxed))
      fn_(ctx_, s, nth);
  }

  // Joins the current job unless it is closed.
  bool join() {
    int64_t v = gate_.load(std::memory_order_acquire);
    while ((v & kClosed) == 0)
      if (gate_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel)) return true;
    return false;
  }

  void loop() {
    t_inside_job = true;  // a kernel calling parallel_run from a worker runs inline
    uint64_t seen = generation_.load(std::memory_order_acquire);
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
          sleepers_.fetch_add(1, std::memory_order_seq_cst);
          cv_.wait(lock, [&] { return generation_.load(std::memory_order_seq_cst) != seen; });
          sleepers_.fetch_sub(1, std::memory_order_relaxed);
          gen = generation_.load(std::memory_order_acquire);
        }
      }
      seen = gen;
      if (join()) {
        run_shares();
        finished_.fetch_add(1, std::memory_order_release);
      }
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<int64_t> gate_{kClosed};  // workers joined to the current job, | kClosed once it stops admitting
  std::atomic<int> next_share_{0};
  std::atomic<int64_t> finished_{0};
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int nth_ = 1;
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
    // Single-threaded: run the whole job as one share so the kernel's split stays valid.
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
