// A persistent thread pool for the kernels: threads are started once and reused by every call, because a training
// step runs hundreds of kernels of a few hundred microseconds each and thread start-up would eat the gains.
//
// parallel_run(nth, fn) runs fn(ith, nth) for ith = 0..nth-1; the calling thread is ith = 0 and the pool's workers
// take the rest; it returns when all are done. Kernels split their own work from (ith, nth) (see split_range).
// Workers spin briefly after a job (the next kernel usually follows within microseconds), then sleep.
//
// The pool serves one job at a time. A call made while it is busy (from a Node worker thread running its own
// kernels, or from inside a job) runs single-threaded on the caller instead of waiting: correct, never deadlocks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace graft {

// Threads kernels may use: GRAFT_THREADS, default the number of CPUs. Read once.
int thread_count();

using TaskFn = void (*)(void* ctx, int ith, int nth);

// Runs fn(ctx, ith, nth) for every ith in [0, nth), nth clamped to [1, thread_count()].
void parallel_run_raw(int nth, TaskFn fn, void* ctx);

template <typename F>
void parallel_run(int nth, F&& f) {
  parallel_run_raw(
      nth, [](void* ctx, int ith, int n) { (*static_cast<F*>(ctx))(ith, n); }, &f);
}

// The share [begin, end) of `total` items that task ith of nth takes (contiguous, sizes differ by at most one).
inline void split_range(int64_t total, int ith, int nth, int64_t* begin, int64_t* end) {
  const int64_t base = total / nth, rem = total % nth;
  *begin = ith * base + (ith < rem ? ith : rem);
  *end = *begin + base + (ith < rem ? 1 : 0);
}

// How many threads a job of `work` elementary operations deserves: work below `grain` per thread is not worth
// waking a worker for (~5 µs), so small kernels stay on the calling thread.
inline int threads_for(int64_t work, int64_t grain) {
  const int64_t want = work / (grain > 0 ? grain : 1);
  const int max = thread_count();
  return want < 1 ? 1 : (want < max ? static_cast<int>(want) : max);
}

// Elementwise work below this many elements runs on one thread.
constexpr int64_t kElementwiseGrain = 1 << 15;

}  // namespace graft
