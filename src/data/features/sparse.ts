/**
 * Compressed sparse row matrices of float64, the layout scikit-learn's vectorizers produce:
 * row i's entries are indices[indptr[i]..indptr[i+1]) (column ids, ascending) with values in data.
 */
import { ShapeError } from "../../util/errors.js";

export class CsrMatrix {
  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly indptr: Int32Array,
    readonly indices: Int32Array,
    readonly data: Float64Array,
  ) {
    if (indptr.length !== rows + 1)
      throw new ShapeError(`CsrMatrix: indptr has ${indptr.length} entries, expected rows + 1 = ${rows + 1}`);
    if (indices.length !== data.length || indptr[rows] !== data.length) {
      throw new ShapeError(
        `CsrMatrix: ${indices.length} indices, ${data.length} values and indptr[rows] = ${indptr[rows]} must agree`,
      );
    }
  }

  get nnz(): number {
    return this.data.length;
  }

  /** Builds a matrix from per-row column→value maps (columns are sorted here). */
  static fromRows(rows: readonly Map<number, number>[], cols: number): CsrMatrix {
    let nnz = 0;
    for (const r of rows) nnz += r.size;
    const indptr = new Int32Array(rows.length + 1);
    const indices = new Int32Array(nnz);
    const data = new Float64Array(nnz);
    let k = 0;
    rows.forEach((r, i) => {
      const keys = [...r.keys()].sort((a, b) => a - b);
      for (const c of keys) {
        indices[k] = c;
        data[k++] = r.get(c)!;
      }
      indptr[i + 1] = k;
    });
    return new CsrMatrix(rows.length, cols, indptr, indices, data);
  }

  static fromDense(dense: readonly (readonly number[])[], cols = dense[0]?.length ?? 0): CsrMatrix {
    return CsrMatrix.fromRows(
      dense.map((row) => new Map(row.flatMap((v, j) => (v !== 0 ? [[j, v] as [number, number]] : [])))),
      cols,
    );
  }

  toDense(): number[][] {
    const out = Array.from({ length: this.rows }, () => new Array<number>(this.cols).fill(0));
    for (let i = 0; i < this.rows; i++)
      for (let k = this.indptr[i]!; k < this.indptr[i + 1]!; k++) out[i]![this.indices[k]!] = this.data[k]!;
    return out;
  }

  /** The rows at `idx`, in that order. */
  selectRows(idx: ArrayLike<number>): CsrMatrix {
    let nnz = 0;
    for (let t = 0; t < idx.length; t++) nnz += this.indptr[idx[t]! + 1]! - this.indptr[idx[t]!]!;
    const indptr = new Int32Array(idx.length + 1);
    const indices = new Int32Array(nnz);
    const data = new Float64Array(nnz);
    let k = 0;
    for (let t = 0; t < idx.length; t++) {
      const i = idx[t]!;
      if (!(i >= 0 && i < this.rows)) throw new ShapeError(`CsrMatrix.selectRows: row ${i} outside [0, ${this.rows})`);
      const a = this.indptr[i]!,
        b = this.indptr[i + 1]!;
      indices.set(this.indices.subarray(a, b), k);
      data.set(this.data.subarray(a, b), k);
      k += b - a;
      indptr[t + 1] = k;
    }
    return new CsrMatrix(idx.length, this.cols, indptr, indices, data);
  }

  /** [this | other]: columns of `other` follow this matrix's. */
  hstack(other: CsrMatrix): CsrMatrix {
    if (other.rows !== this.rows) throw new ShapeError(`CsrMatrix.hstack: ${this.rows} rows vs ${other.rows} rows`);
    const indptr = new Int32Array(this.rows + 1);
    const indices = new Int32Array(this.nnz + other.nnz);
    const data = new Float64Array(this.nnz + other.nnz);
    let k = 0;
    for (let i = 0; i < this.rows; i++) {
      for (let p = this.indptr[i]!; p < this.indptr[i + 1]!; p++, k++)
        [indices[k], data[k]] = [this.indices[p]!, this.data[p]!];
      for (let p = other.indptr[i]!; p < other.indptr[i + 1]!; p++, k++)
        [indices[k], data[k]] = [other.indices[p]! + this.cols, other.data[p]!];
      indptr[i + 1] = k;
    }
    return new CsrMatrix(this.rows, this.cols + other.cols, indptr, indices, data);
  }

  /** Column sums (length cols). */
  columnSums(): Float64Array {
    const s = new Float64Array(this.cols);
    for (let k = 0; k < this.nnz; k++) s[this.indices[k]!]! += this.data[k]!;
    return s;
  }
}
