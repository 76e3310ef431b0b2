// One GEMM on several threads, robust to a machine that is busy with other work.
//
// Splitting C into one fixed rectangle per thread is fine on an idle machine, but if the OS deschedules one
// thread, every other thread finishes and waits for it. So the work is handed out dynamically instead, BLIS-style
// with one operand shared:
//
//  * rows mode (the usual case, m large): for each block of columns, the threads first pack op(B)'s block for
//    ALL of k into one shared buffer, cooperatively, claiming panels from a shared counter; then they claim
//    chunks of C's rows (guided: large chunks first, single tiles at the end) and, for each, pack their own A
//    block and run the micro-kernel against the shared B. A chunk of rows is computed over all of k by the
//    thread that claimed it, so no two threads ever add into the same element of C.
//  * columns mode (m small, n large: a batch of one token against a big weight): the same with the roles
//    swapped: op(A) packed once and shared, chunks of columns handed out, each thread packing its own B.
//
// Threads meet only when a shared block is fully packed and when it is about to be overwritten by the next one.
// Counters are cumulative over all phases, so a thread that is late for a phase can never claim work of the
// next one. Nothing is packed twice, unlike a static grid where every thread repacks the operand it shares.
#include <algorithm>
#include <atomic>
#include <thread>

#include "../threadpool.h"
#include "gemm_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GRAFT_SPIN_PAUSE() _mm_pause()
#else
#define GRAFT_SPIN_PAUSE() std::this_thread::yield()
#endif

namespace graft {
namespace gemm_detail {
namespace {

// The shared packed operand of one block: at most this many floats (16 MiB), so it stays in L3.
constexpr int64_t kSharedFloats = int64_t{4} << 20;
// A block of C that a thread keeps in L2 while k runs over it: 128 Ki floats (512 KiB).
constexpr int64_t kCBlockFloats = int64_t{128} << 10;
// A chunk's rows of A packed for all of k, kept in L2 while the column groups run: 256 Ki floats (1 MiB).
constexpr int64_t kABlockFloats = int64_t{256} << 10;

struct Counters {
  std::atomic<int64_t> next{0};  // units claimed so far, over all phases
  std::atomic<int64_t> done{0};  // units finished so far
};

// Claims [*b, *e) from the units below `end`: guided when `guided` (a share of what is left, at least `min_chunk`),
// else fixed chunks of `min_chunk`. Returns false when nothing is left in this phase.
bool claim(Counters& ctr, int64_t end, int64_t min_chunk, int nth, bool guided, int64_t* b, int64_t* e) {
  int64_t cur = ctr.next.load(std::memory_order_relaxed);
  for (;;) {
    if (cur >= end) return false;
    int64_t chunk = guided ? std::max(min_chunk, (end - cur) / (2 * nth)) : min_chunk;
    chunk = std::min(chunk, end - cur);
    if (ctr.next.compare_exchange_weak(cur, cur + chunk, std::memory_order_relaxed)) {
      *b = cur;
      *e = cur + chunk;
      return true;
    }
  }
}

void finish(Counters& ctr, int64_t units) { ctr.done.fetch_add(units, std::memory_order_release); }

void wait_done(Counters& ctr, int64_t target) {
  for (int spins = 0; ctr.done.load(std::memory_order_acquire) < target; spins++) {
    GRAFT_SPIN_PAUSE();
    if ((spins & 1023) == 1023) std::this_thread::yield();  // the thread we wait for may need this core
  }
}

struct Product {
  const GemmKernel& K;
  View a, bt;
  float* c;
  int64_t ldc, m, n, k;
  bool accumulate;
};

// Packs units [b, e) of an operand block shared by all threads: unit u is panel (u % panels) of k block
// (u / panels); `rows` rows of the block from `src` (a view already offset to the block), panels of `width`.
void pack_shared(const Product& P, View src, int64_t rows, int width, int64_t panels, int64_t b, int64_t e, float* shared) {
  const int64_t rows_padded = panels * width;
  while (b < e) {
    const int64_t pb = b / panels, j0 = b % panels;
    const int64_t j1 = std::min(panels, j0 + (e - b));  // stay within this k block
    const int64_t pc = pb * P.K.kc, kb = std::min(P.K.kc, P.k - pc);
    const int64_t r0 = j0 * width, r1 = std::min(rows, j1 * width);
    P.K.pack(src.x + r0 * src.rs + pc * src.cs, src.rs, src.cs, r1 - r0, kb, width, shared + pc * rows_padded + r0 * kb);
    b += j1 - j0;
  }
}

// Rows mode: op(B) shared per block of columns, chunks of C's rows claimed dynamically.
void run_rows(const Product& P, float* shared, int64_t cols_per_block, Counters& ctr, int nth) {
  const GemmKernel& K = P.K;
  const int64_t k_blocks = (P.k + K.kc - 1) / K.kc, row_tiles = (P.m + K.mr - 1) / K.mr;
  // rows whose A, packed for all of k, stays in L2 (at most mc, at least one tile)
  const int64_t rows_per_a = std::max<int64_t>(K.mr, std::min<int64_t>(K.mc, kABlockFloats / P.k / K.mr * K.mr));
  int64_t base = 0;
  for (int64_t jc = 0; jc < P.n; jc += cols_per_block) {
    const int64_t nb = std::min(cols_per_block, P.n - jc);
    const int64_t panels = (nb + K.nr - 1) / K.nr, ncp = panels * K.nr;
    // phase 1: pack op(B)[:, jc:jc+nb] for all of k, together
    const int64_t pack_units = k_blocks * panels;
    const View bt{P.bt.x + jc * P.bt.rs, P.bt.rs, P.bt.cs};
    int64_t b, e;
    while (claim(ctr, base + pack_units, std::max<int64_t>(1, pack_units / (8 * nth)), nth, false, &b, &e)) {
      pack_shared(P, bt, nb, K.nr, panels, b - base, e - base, shared);
      finish(ctr, e - b);
    }
    base += pack_units;
    wait_done(ctr, base);
    // phase 2: claim row tiles; each chunk over all of k and all nb columns. The chunk's A block is packed for
    // all of k first, so the columns can be walked in groups whose C block stays in L2 while k runs over it
    // (otherwise every kc step would stream the whole mc × nb block of C through L3 again).
    while (claim(ctr, base + row_tiles, 1, nth, true, &b, &e)) {
      const int64_t r0 = (b - base) * K.mr, r1 = std::min(P.m, (e - base) * K.mr);
      for (int64_t ic = r0; ic < r1; ic += rows_per_a) {
        const int64_t mb = std::min(rows_per_a, r1 - ic), mbp = round_up(mb, K.mr);
        float* ap = scratch(Scratch::A, static_cast<size_t>(mbp * P.k));
        for (int64_t pc = 0; pc < P.k; pc += K.kc)
          K.pack(P.a.x + ic * P.a.rs + pc * P.a.cs, P.a.rs, P.a.cs, mb, std::min(K.kc, P.k - pc), K.mr, ap + pc * mbp);
        const int64_t group = std::max<int64_t>(K.nr, kCBlockFloats / mbp / K.nr * K.nr);
        for (int64_t jg = 0; jg < nb; jg += group) {
          const int64_t jg_end = std::min(nb, jg + group);
          for (int64_t pc = 0; pc < P.k; pc += K.kc) {
            const int64_t kb = std::min(K.kc, P.k - pc);
            const bool add = P.accumulate || pc > 0;
            const float* ablock = ap + pc * mbp;
            const float* bblock = shared + pc * ncp;
            for (int64_t jr = jg; jr < jg_end; jr += K.nr) {
              const int nn = static_cast<int>(std::min<int64_t>(K.nr, nb - jr));
              float* cj = P.c + ic * P.ldc + jc + jr;
              for (int64_t ir = 0; ir < mb; ir += K.mr) {
                const int mm = static_cast<int>(std::min<int64_t>(K.mr, mb - ir));
                K.micro(kb, ablock + ir * kb, bblock + jr * kb, cj + ir * P.ldc, P.ldc, mm, nn, add);
              }
            }
          }
        }
      }
      finish(ctr, e - b);
    }
    base += row_tiles;
    wait_done(ctr, base);  // everyone is done with this block of B before it is overwritten
  }
}

// Columns mode: op(A) shared per block of rows, chunks of C's columns claimed dynamically.
void run_cols(const Product& P, float* shared, int64_t rows_per_block, Counters& ctr, int nth) {
  const GemmKernel& K = P.K;
  const int64_t k_blocks = (P.k + K.kc - 1) / K.kc, col_tiles = (P.n + K.nr - 1) / K.nr;
  int64_t base = 0;
  for (int64_t ic = 0; ic < P.m; ic += rows_per_block) {
    const int64_t mb = std::min(rows_per_block, P.m - ic);
    const int64_t panels = (mb + K.mr - 1) / K.mr, mbp = panels * K.mr;
    const int64_t pack_units = k_blocks * panels;
    const View a{P.a.x + ic * P.a.rs, P.a.rs, P.a.cs};
    int64_t b, e;
    while (claim(ctr, base + pack_units, std::max<int64_t>(1, pack_units / (8 * nth)), nth, false, &b, &e)) {
      pack_shared(P, a, mb, K.mr, panels, b - base, e - base, shared);
      finish(ctr, e - b);
    }
    base += pack_units;
    wait_done(ctr, base);
    while (claim(ctr, base + col_tiles, 1, nth, true, &b, &e)) {
      const int64_t c0 = (b - base) * K.nr, c1 = std::min(P.n, (e - base) * K.nr);
      for (int64_t jc = c0; jc < c1; jc += K.nc) {
        const int64_t nb = std::min(K.nc, c1 - jc);
        float* bp = scratch(Scratch::B, static_cast<size_t>(round_up(nb, K.nr) * std::min(K.kc, P.k)));
        for (int64_t pc = 0; pc < P.k; pc += K.kc) {
          const int64_t kb = std::min(K.kc, P.k - pc);
          const bool add = P.accumulate || pc > 0;
          K.pack(P.bt.x + jc * P.bt.rs + pc * P.bt.cs, P.bt.rs, P.bt.cs, nb, kb, K.nr, bp);
          const float* ablock = shared + pc * mbp;
          for (int64_t jr = 0; jr < nb; jr += K.nr) {
            const int nn = static_cast<int>(std::min<int64_t>(K.nr, nb - jr));
            float* cj = P.c + ic * P.ldc + jc + jr;
            for (int64_t ir = 0; ir < mb; ir += K.mr) {
              const int mm = static_cast<int>(std::min<int64_t>(K.mr, mb - ir));
              K.micro(kb, ablock + ir * kb, bp + jr * kb, cj + ir * P.ldc, P.ldc, mm, nn, add);
            }
          }
        }
      }
      finish(ctr, e - b);
    }
    base += col_tiles;
    wait_done(ctr, base);
  }
}

}  // namespace

void gemm_parallel(const GemmKernel& K, View a, View bt, float* c, int64_t ldc, int64_t m, int64_t n, int64_t k, bool accumulate, int nth) {
  const Product P{K, a, bt, c, ldc, m, n, k, accumulate};
  const int64_t row_tiles = (m + K.mr - 1) / K.mr, col_tiles = (n + K.nr - 1) / K.nr;
  // rows mode unless there are too few row tiles to go round and columns have more
  const bool rows_mode = row_tiles >= 4 * nth || row_tiles >= col_tiles;
  // the shared block: all of k, as many panels as fit in kSharedFloats
  const int width = rows_mode ? K.nr : K.mr;
  const int64_t extent = rows_mode ? n : m;
  const int64_t fit = std::max<int64_t>(width, kSharedFloats / k / width * width);
  const int64_t per_block = std::min(round_up(extent, width), fit);
  float* shared = scratch(Scratch::Shared, static_cast<size_t>(per_block * k));
  Counters ctr;
  parallel_run(nth, [&](int, int n_threads) {
    if (rows_mode) run_rows(P, shared, per_block, ctr, n_threads);
    else run_cols(P, shared, per_block, ctr, n_threads);
  });
}

}  // namespace gemm_detail
}  // namespace graft
