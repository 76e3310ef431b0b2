/**
 * One policy decides what "best" is: the metric and direction, when training stops early, and therefore which
 * weights end up in best/. Its state is part of every checkpoint so a resumed run judges the same way.
 */
export interface PolicyState {
  best: number | null;
  bestStep: number | null;
  badEvals: number;
}

export class BestModelPolicy {
  state: PolicyState = { best: null, bestStep: null, badEvals: 0 };

  constructor(
    readonly metric: string,
    readonly greaterIsBetter: boolean,
    readonly patience = 0,
    readonly minDelta = 0,
  ) {}

  /** Records an evaluation; returns whether it is a new best. Throws if the metric is absent. */
  observe(metrics: Record<string, number>, step: number): boolean {
    const v = metrics[this.metric];
    if (v === undefined)
      throw new Error(
        `the metric for the best model, "${this.metric}", is not among the evaluation metrics (${Object.keys(metrics).join(", ")})`,
      );
    if (Number.isNaN(v)) {
      this.state.badEvals++;
      return false;
    }
    const s = this.state;
    const improved =
      s.best === null || (this.greaterIsBetter ? v > s.best + this.minDelta : v < s.best - this.minDelta);
    if (improved) {
      s.best = v;
      s.bestStep = step;
      s.badEvals = 0;
    } else s.badEvals++;
    return improved;
  }

  shouldStop(): boolean {
    return this.patience > 0 && this.state.badEvals >= this.patience;
  }
}
