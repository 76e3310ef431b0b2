#include "optim.h"

#include <cmath>
#include <vector>

#include "../threadpool.h"

namespace graft {

// Calls f(t, begin, end) for the pieces of parameters that share [b, e) of the concatenated element range.
template <typename F>
static void for_pieces(const std::vector<int64_t>& starts, int64_t b, int64_t e, F&& f) {
  const int count = static_cast<int>(starts.size()) - 1;
  int t = 0;
  while (t < count && starts[t + 1] <= b) t++;
  for (; t < count && starts[t] < e; t++) {
    const int64_t lo = b > starts[t] ? b - starts[t] : 0;
    const int64_t hi = (e < starts[t + 1] ? e : starts[t + 1]) - starts[t];
    if (lo < hi) f(t, lo, hi);
  }
}

static std::vector<int64_t> prefix(const int64_t* lengths, int count) {
  std::vector<int64_t> starts(static_cast<size_t>(count) + 1, 0);
  for (int t = 0; t < count; t++) starts[t + 1] = starts[t] + lengths[t];
  return starts;
}

void adam(float* const* params, const float* const* grads, float* const* m, float* const* v, const int64_t* lengths, int count,
          const AdamHyper& h) {
  const std::vector<int64_t> starts = prefix(lengths, count);
  AdamConsts k;
  k.lr = static_cast<float>(h.lr);
  k.beta1 = static_cast<float>(h.beta1);
  k.beta2 = static_cast<float>(h.beta2);
  k.eps = static_cast<float>(h.eps);
  k.weight_decay = static_cast<float>(h.weight_decay);
  k.decoupled = h.decoupled;
  // bias corrections in double, as torch computes them
  k.step_size = static_cast<float>(h.lr / (1.0 - std::pow(h.beta1, h.step)));
  k.inv_bc2_sqrt = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(h.beta2, h.step)));
  const VecKernels& vk = vec();
  const int64_t total = starts.back();
  parallel_run(threads_for(total * 4, kElementwiseGrain), [&](int ith, int nth) {
    int64_t b, e;
    split_range(total, ith, nth, &b, &e);
    for_pieces(starts, b, e, [&](int t, int64_t lo, int64_t hi) {
      vk.adam(params[t] + lo, grads[t] + lo, m[t] + lo, v[t] + lo, hi - lo, k);
    });
  });
}

void sgd(float* const* params, const float* const* grads, float* const* momentum, const int64_t* lengths, int count, const SgdHyper& h) {
  const std::vector<int64_t> starts = prefix(lengths, count);
  SgdConsts k;
  k.lr = static_cast<float>(h.lr);
  k.momentum = static_cast<float>(h.momentum);
  k.dampening = static_cast<float>(h.dampening);
  k.weight_decay = static_cast<float>(h.weight_decay);
  k.nesterov = h.nesterov;
  k.first_step = h.first_step;
  const VecKernels& vk = vec();
  const int64_t total = starts.back();
  parallel_run(threads_for(total * 2, kElementwiseGrain), [&](int ith, int nth) {
    int64_t b, e;
    split_range(total, ith, nth, &b, &e);
    for_pieces(starts, b, e, [&](int t, int64_t lo, int64_t hi) {
      vk.sgd(params[t] + lo, grads[t] + lo, momentum[t] != nullptr ? momentum[t] + lo : nullptr, hi - lo, k);
    });
  });
}

}  // namespace graft
