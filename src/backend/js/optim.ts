import type { AdamHyper, F32, SgdHyper } from "../backend.js";

/** Adam / AdamW exactly as torch.optim.Adam(W) (non-amsgrad, non-fused) computes it. */
export function adam(
  params: readonly F32[],
  grads: readonly F32[],
  m: readonly F32[],
  v: readonly F32[],
  h: AdamHyper,
): void {
  const { lr, beta1, beta2, eps, weightDecay, decoupled, step } = h;
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
  const stepSize = lr / bc1;
  for (let t = 0; t < params.length; t++) {
    const p = params[t],
      g = grads[t],
      mt = m[t],
      vt = v[t];
    for (let i = 0; i < p.length; i++) {
      let gi = g[i];
      if (weightDecay !== 0) {
        if (decoupled) p[i] *= 1 - lr * weightDecay;
        else gi += weightDecay * p[i];
      }
      mt[i] = beta1 * mt[i] + (1 - beta1) * gi;
      vt[i] = beta2 * vt[i] + (1 - beta2) * gi * gi;
      const denom = Math.sqrt(vt[i]) / bc2Sqrt + eps;
      p[i] -= (stepSize * mt[i]) / denom;
    }
  }
}

/** SGD with momentum / dampening / Nesterov / weight decay as torch.optim.SGD computes it. */
export function sgd(
  params: readonly F32[],
  grads: readonly F32[],
  momentum: readonly (F32 | null)[],
  h: SgdHyper,
): void {
  const { lr, momentum: mu, dampening, nesterov, weightDecay, firstStep } = h;
  for (let t = 0; t < params.length; t++) {
    const p = params[t],
      g = grads[t],
      buf = momentum[t];
    for (let i = 0; i < p.length; i++) {
      let gi = g[i] + weightDecay * p[i];
      if (mu !== 0 && buf) {
        buf[i] = firstStep ? gi : mu * buf[i] + (1 - dampening) * gi;
        gi = nesterov ? gi + mu * buf[i] : buf[i];
      }
      p[i] -= lr * gi;
    }
  }
}
