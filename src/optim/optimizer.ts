/**
 * Optimizers over parameter groups, as torch.optim: each group has its own learning rate and weight decay
 * (layer-wise learning rates and "no decay on biases/LayerNorm" are just groups). Parameters without a gradient
 * (frozen, or unused this step) are skipped and get no state. Updates run in one backend call per group.
 */
import { ArgumentError, ShapeError } from "../util/errors.js";
import { Tensor, adamStep_, copy_, scale_, sgdStep_, sumOfSquares, zeros } from "../tensor/index.js";

export interface ParamGroup {
  params: Tensor[];
  lr: number;
  weightDecay: number;
  /** Free-form tag, e.g. "layer.3" or "no_decay", for schedules and reports. */
  name?: string;
  /** The group's peak learning rate, which schedules scale. Defaults to lr. */
  initialLr?: number;
}

export type ParamsArg = Tensor[] | (Partial<ParamGroup> & { params: Tensor[] })[];

export interface OptimizerState {
  /** Per-parameter state tensors, keyed "<paramIndex>.<name>" (index in group order). */
  tensors: Record<string, Tensor>;
  /** Per-parameter step counts and the groups' hyperparameters. */
  meta: {
    steps: Record<string, number>;
    groups: { lr: number; weightDecay: number; initialLr: number; name?: string }[];
  };
}

export abstract class Optimizer {
  readonly groups: ParamGroup[];
  /** Per-parameter state buffers and step counts, created on first update. */
  protected readonly state = new Map<Tensor, { step: number; buffers: Record<string, Tensor> }>();

  constructor(params: ParamsArg, defaults: { lr: number; weightDecay: number }) {
    if (!(defaults.lr >= 0))
      throw new ArgumentError(`${this.constructor.name}: learning rate must be >= 0, got ${defaults.lr}`);
    const list = params as unknown[];
    const isGroups = list.length > 0 && !(list[0] instanceof Tensor);
    const groups = isGroups
      ? (params as (Partial<ParamGroup> & { params: Tensor[] })[])
      : [{ params: params as Tensor[] }];
    const seen = new Set<Tensor>();
    this.groups = groups.map((g) => {
      for (const p of g.params) {
        if (p.dtype !== "f32") throw new ShapeError(`${this.constructor.name}: parameters must be f32`);
        if (seen.has(p))
          throw new ArgumentError(`${this.constructor.name}: a parameter appears in more than one group`);
        seen.add(p);
      }
      const lr = g.lr ?? defaults.lr;
      return {
        params: [...g.params],
        lr,
        weightDecay: g.weightDecay ?? defaults.weightDecay,
        name: g.name,
        initialLr: g.initialLr ?? lr,
      };
    });
  }

  /** Parameters of all groups in order. */
  allParams(): Tensor[] {
    return this.groups.flatMap((g) => g.params);
  }

  /** Sets every parameter's gradient to null (PyTorch's set_to_none). */
  zeroGrad(): void {
    for (const p of this.allParams()) p.grad = null;
  }

  /** Applies one update from the current gradients. */
  step(): void {
    for (const g of this.groups) {
      const active = g.params.filter((p) => p.requiresGrad && p.grad !== null);
      if (active.length === 0) continue;
      // parameters that joined later (e.g. unfrozen) have their own step counts: update each cohort in one call
      const cohorts = new Map<number, Tensor[]>();
      for (const p of active) {
        const s = this.stateOf(p);
        s.step++;
        const list = cohorts.get(s.step) ?? [];
        list.push(p);
        cohorts.set(s.step, list);
      }
      for (const [step, ps] of cohorts) this.update(g, ps, step);
    }
  }

  protected stateOf(p: Tensor): { step: number; buffers: Record<string, Tensor> } {
    let s = this.state.get(p);
    if (!s) {
      s = { step: 0, buffers: this.initState(p) };
      this.state.set(p, s);
    }
    return s;
  }

  protected abstract initState(p: Tensor): Record<string, Tensor>;
  protected abstract update(group: ParamGroup, params: Tensor[], step: number): void;

  /** State for a checkpoint: buffers as tensors plus step counts and group hyperparameters. */
  stateDict(): OptimizerState {
    const tensors: Record<string, Tensor> = {};
    const steps: Record<string, number> = {};
    this.allParams().forEach((p, i) => {
      const s = this.state.get(p);
      if (!s) return;
      steps[String(i)] = s.step;
      for (const [name, buf] of Object.entries(s.buffers)) tensors[`${i}.${name}`] = buf;
    });
    return {
      tensors,
      meta: {
        steps,
        groups: this.groups.map((g) => ({
          lr: g.lr,
          weightDecay: g.weightDecay,
          initialLr: g.initialLr ?? g.lr,
          name: g.name,
        })),
      },
    };
  }

  loadStateDict(sd: OptimizerState): void {
    const params = this.allParams();
    if (sd.meta.groups.length !== this.groups.length)
      throw new ShapeError(
        `${this.constructor.name}.loadStateDict: ${sd.meta.groups.length} groups in the state, ${this.groups.length} in the optimizer`,
      );
    sd.meta.groups.forEach((g, i) => Object.assign(this.groups[i], g));
    this.state.clear();
    for (const [idx, step] of Object.entries(sd.meta.steps)) {
      const p = params[Number(idx)];
      if (!p)
        throw new ShapeError(
          `${this.constructor.name}.loadStateDict: state for parameter ${idx}, but the optimizer has ${params.length}`,
        );
      const buffers = this.initState(p);
      for (const name of Object.keys(buffers)) {
        const t = sd.tensors[`${idx}.${name}`];
        if (!t || t.size !== p.size)
          throw new ShapeError(
            `${this.constructor.name}.loadStateDict: "${idx}.${name}" is missing or has the wrong size`,
          );
        copy_(buffers[name], t);
      }
      this.state.set(p, { step, buffers });
    }
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** Adam with L2 regularization folded into the gradient (torch.optim.Adam). */
export class Adam extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  protected readonly decoupled: boolean = false;

  constructor(params: ParamsArg, opts: AdamOptions = {}) {
    super(params, { lr: opts.lr ?? 1e-3, weightDecay: opts.weightDecay ?? 0 });
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    for (const b of this.betas)
      if (!(b >= 0 && b < 1))
        throw new ArgumentError(`${this.constructor.name}: betas must be in [0, 1), got ${this.betas}`);
  }

  protected initState(p: Tensor): Record<string, Tensor> {
    return { exp_avg: zeros(p.shape), exp_avg_sq: zeros(p.shape) };
  }

  protected update(g: ParamGroup, ps: Tensor[], step: number): void {
    const st = ps.map((p) => this.state.get(p)!.buffers);
    adamStep_(
      ps,
      ps.map((p) => p.grad!),
      st.map((s) => s.exp_avg),
      st.map((s) => s.exp_avg_sq),
      {
        lr: g.lr,
        beta1: this.betas[0],
        beta2: this.betas[1],
        eps: this.eps,
        weightDecay: g.weightDecay,
        decoupled: this.decoupled,
        step,
      },
    );
  }
}

/** Adam with decoupled weight decay (torch.optim.AdamW; default weight decay 0.01). */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;

  constructor(params: ParamsArg, opts: AdamOptions = {}) {
    super(params, { ...opts, weightDecay: opts.weightDecay ?? 0.01 });
  }
}

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;

  constructor(params: ParamsArg, opts: SgdOptions) {
    super(params, { lr: opts.lr, weightDecay: opts.weightDecay ?? 0 });
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0))
      throw new ArgumentError("SGD: Nesterov momentum requires momentum > 0 and dampening 0");
  }

  protected initState(p: Tensor): Record<string, Tensor> {
    return this.momentum !== 0 ? { momentum_buffer: zeros(p.shape) } : {};
  }

  protected update(g: ParamGroup, ps: Tensor[], step: number): void {
    sgdStep_(
      ps,
      ps.map((p) => p.grad!),
      ps.map((p) => this.state.get(p)!.buffers.momentum_buffer ?? null),
      {
        lr: g.lr,
        momentum: this.momentum,
        dampening: this.dampening,
        nesterov: this.nesterov,
        weightDecay: g.weightDecay,
        firstStep: step === 1,
      },
    );
  }
}

/**
 * Scales gradients so their global L2 norm is at most maxNorm (torch.nn.utils.clip_grad_norm_).
 * Returns the norm before clipping.
 */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  const grads = params.filter((p) => p.grad !== null).map((p) => p.grad!);
  const norm = Math.sqrt(sumOfSquares(grads));
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of grads) scale_(g, coef);
  return norm;
}
