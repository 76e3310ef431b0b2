// Optimizer steps over every parameter in one call: the element ranges of all parameters are laid end to end and
// split evenly over the pool, so one huge embedding and a hundred small biases balance alike.
#pragma once

#include <cstdint>

#include "vec.h"

namespace graft {

struct AdamHyper {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled;
  double step;  // 1-based, after this update
};

struct SgdHyper {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, first_step;
};

// params[t], grads[t], m[t], v[t] all hold lengths[t] elements.
void adam(float* const* params, const float* const* grads, float* const* m, float* const* v, const int64_t* lengths, int count,
          const AdamHyper& h);
// momentum[t] may be null (no momentum buffer for that parameter).
void sgd(float* const* params, const float* const* grads, float* const* momentum, const int64_t* lengths, int count, const SgdHyper& h);

}  // namespace graft
