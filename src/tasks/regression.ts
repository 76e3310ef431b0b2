/** Regression metrics as scikit-learn / scipy define them (MSE, RMSE, MAE, R², Pearson, Spearman with tied ranks averaged). */
export function regressionMetrics(y: readonly number[], p: readonly number[]): Record<string, number> {
  const n = y.length;
  if (n === 0) return { mse: NaN, rmse: NaN, mae: NaN, r2: NaN, pearson: NaN, spearman: NaN };
  let se = 0, ae = 0, my = 0;
  for (let i = 0; i < n; i++) {
    se += (y[i] - p[i]) ** 2;
    ae += Math.abs(y[i] - p[i]);
    my += y[i];
  }
  my /= n;
  let ss = 0;
  for (const v of y) ss += (v - my) ** 2;
  const mse = se / n;
  return { mse, rmse: Math.sqrt(mse), mae: ae / n, r2: ss === 0 ? (se === 0 ? 1 : 0) : 1 - se / ss, pearson: pearson(y, p), spearman: pearson(ranks(y), ranks(p)) };
}

function pearson(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n, mb = b.reduce((s, v) => s + v, 0) / n;
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < n; i++) {
    num += (a[i] - ma) * (b[i] - mb);
    da += (a[i] - ma) ** 2;
    db += (b[i] - mb) ** 2;
  }
  return da === 0 || db === 0 ? NaN : num / Math.sqrt(da * db);
}

/** 1-based ranks, ties get the mean of their positions (scipy.stats.rankdata "average"). */
function ranks(v: readonly number[]): number[] {
  const order = v.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(v.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}
