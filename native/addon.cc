// The N-API face of the native backend: the only file that includes napi.h. Each kernel of backend.ts is
// one binding below that checks its arguments (types, and that every buffer is long enough for the sizes given,
// so a bad call is a JavaScript error and never a stray write), converts them to pointers and sizes, and calls a
// plain C++ kernel. kBindings is the one table of kernels; test/backend/addon.test.ts checks it against
// KERNEL_METHODS (src/backend/host.ts wraps these typed-array kernels into the Backend over storages).
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cpu.h"
#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/gemm_bf16.h"
#include "kernels/layout.h"
#include "kernels/nn.h"
#include "kernels/optim.h"
#include "kernels/qgemm.h"
#include "kernels/reduce.h"
#include "kernels/strided.h"
#include "threadpool.h"

namespace {

using namespace graft;

// ---- argument decoding

struct F32 {
  float* data;
  int64_t length;
};
struct I32 {
  int32_t* data;
  int64_t length;
};
struct I8 {
  int8_t* data;
  int64_t length;
};

[[noreturn]] void throw_type(const Napi::Env& env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }
[[noreturn]] void throw_range(const Napi::Env& env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

// One napi_get_typedarray_info call per argument (the C++ wrappers' IsTypedArray/TypedArrayType/As make three):
// these run on every kernel call, and small kernels are dominated by argument decoding.
template <typename T>
bool typed_array(const Napi::Env& env, const Napi::Value& v, napi_typedarray_type want, T** data, int64_t* length) {
  napi_typedarray_type type;
  size_t n = 0;
  void* p = nullptr;
  if (napi_get_typedarray_info(env, v, &type, &n, &p, nullptr, nullptr) != napi_ok || type != want) return false;
  *data = static_cast<T*>(p);
  *length = static_cast<int64_t>(n);
  return true;
}

F32 as_f32(const Napi::Env& env, const Napi::Value& v, const char* what) {
  F32 r;
  if (!typed_array(env, v, napi_float32_array, &r.data, &r.length)) throw_type(env, std::string(what) + " must be a Float32Array");
  return r;
}

I32 as_i32(const Napi::Env& env, const Napi::Value& v, const char* what) {
  I32 r;
  if (!typed_array(env, v, napi_int32_array, &r.data, &r.length)) throw_type(env, std::string(what) + " must be an Int32Array");
  return r;
}

I8 as_i8(const Napi::Env& env, const Napi::Value& v, const char* what) {
  I8 r;
  if (!typed_array(env, v, napi_int8_array, &r.data, &r.length)) throw_type(env, std::string(what) + " must be an Int8Array");
  return r;
}

double as_number(const Napi::Env& env, const Napi::Value& v, const char* what) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) throw_type(env, std::string(what) + " must be a number");
  return d;
}

bool as_bool(const Napi::Value& v) { return v.ToBoolean().Value(); }

// A size: a non-negative integer below 2^53.
int64_t as_size(const Napi::Env& env, const Napi::Value& v, const char* what) {
  const double d = as_number(env, v, what);
  if (!(d >= 0 && d <= 9007199254740991.0) || std::floor(d) != d)
    throw_range(env, std::string(what) + " must be a non-negative integer, got " + v.ToString().Utf8Value());
  return static_cast<int64_t>(d);
}

// An integer that may be negative (strides, offsets, indices).
int64_t as_int(const Napi::Env& env, const Napi::Value& v, const char* what) {
  const double d = as_number(env, v, what);
  if (!(std::fabs(d) <= 9007199254740991.0) || std::floor(d) != d)
    throw_range(env, std::string(what) + " must be an integer, got " + v.ToString().Utf8Value());
  return static_cast<int64_t>(d);
}

// A shape or stride list, on the stack (at most kMaxDims entries; kernels support no more).
struct IntList {
  int64_t v[kMaxDims];
  size_t n = 0;
  size_t size() const { return n; }
  const int64_t* data() const { return v; }
  int64_t operator[](size_t i) const { return v[i]; }
};

IntList as_int_list(const Napi::Env& env, const Napi::Value& v, const char* what, bool sizes) {
  uint32_t n = 0;
  if (napi_get_array_length(env, v, &n) != napi_ok) throw_type(env, std::string(what) + " must be an array of numbers");
  if (n > static_cast<uint32_t>(kMaxDims)) throw_range(env, std::string(what) + ": at most 16 dimensions are supported");
  IntList out;
  out.n = n;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, v, i, &e) != napi_ok) throw_type(env, std::string(what) + " must be an array of numbers");
    const Napi::Value ev(env, e);
    out.v[i] = sizes ? as_size(env, ev, what) : as_int(env, ev, what);
  }
  return out;
}

Napi::Object as_object(const Napi::Env& env, const Napi::Value& v, const char* what) {
  if (!v.IsObject()) throw_type(env, std::string(what) + " must be an object");
  return v.As<Napi::Object>();
}

// Fails unless a buffer holds at least `need` elements.
void need(const Napi::Env& env, const char* method, const char* what, int64_t length, int64_t need) {
  if (length < need)
    throw_range(env, std::string(method) + ": " + what + " has " + std::to_string(length) + " elements but the sizes need " +
                         std::to_string(need));
}

int64_t product(const Napi::Env& env, const IntList& shape) {
  int64_t n = 1;
  for (size_t i = 0; i < shape.n; i++) {
    const int64_t d = shape[i];
    if (d != 0 && n > INT64_MAX / d) throw_range(env, "shape is too large");
    n *= d;
  }
  return n;
}

// Checks that every element a strided view can address lies inside a buffer of `length` elements.
void check_view(const Napi::Env& env, const char* method, const char* what, int64_t length, int64_t offset,
                const IntList& strides, const IntList& shape) {
  if (product(env, shape) == 0) return;
  int64_t lo = offset, hi = offset;
  for (size_t d = 0; d < shape.size(); d++) {
    const int64_t span = (shape[d] - 1) * strides[d];
    if (span > 0) hi += span;
    else lo += span;
  }
  if (lo < 0 || hi >= length)
    throw_range(env, std::string(method) + ": " + what + " view reaches elements [" + std::to_string(lo) + ", " + std::to_string(hi) +
                         "] of a buffer of " + std::to_string(length));
}

void check_rank(const Napi::Env& env, const char* method, const IntList& shape, std::initializer_list<size_t> stride_counts) {
  for (size_t n : stride_counts)
    if (n != shape.size()) throw_range(env, std::string(method) + ": strides and shape differ in length");
}

// The index of an op name in `names` (read into a stack buffer: no allocation per call), or a TypeError.
template <size_t N>
int op_index(const Napi::Env& env, const Napi::Value& v, const char* const (&names)[N], const char* kind) {
  char buf[32];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, buf, sizeof buf, &len) == napi_ok)
    for (size_t i = 0; i < N; i++)
      if (std::strcmp(buf, names[i]) == 0) return static_cast<int>(i);
  throw_type(env, std::string("unknown ") + kind + " \"" + v.ToString().Utf8Value() + "\"");
}

Unary unary_op(const Napi::Env& env, const Napi::Value& v) {
  static const char* const names[] = {"neg", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "relu",
                                      "gelu", "gelu_tanh", "silu", "abs", "square", "reciprocal", "pow"};
  return static_cast<Unary>(op_index(env, v, names, "unary op"));
}

Binary binary_op(const Napi::Env& env, const Napi::Value& v) {
  static const char* const names[] = {"add", "sub", "mul", "div", "max", "min", "pow", "eq", "gt", "lt"};
  return static_cast<Binary>(op_index(env, v, names, "binary op"));
}

Activation activation_op(const Napi::Env& env, const Napi::Value& v) {
  static const char* const names[] = {"identity", "relu", "gelu", "gelu_tanh", "silu", "tanh", "sigmoid"};
  return static_cast<Activation>(op_index(env, v, names, "activation"));
}

struct Axis {
  int64_t outer, dim, inner;
};

Axis axis_sizes(const Napi::Env& env, const Napi::Value& v) {
  Napi::Object o = as_object(env, v, "axis sizes");
  return {as_size(env, o.Get("outer"), "outer"), as_size(env, o.Get("dim"), "dim"), as_size(env, o.Get("inner"), "inner")};
}

// ---- memory helpers

Napi::Value Fill(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 out = as_f32(env, info[0], "out");
  fill(out.data, out.length, static_cast<float>(as_number(env, info[1], "value")));
  return env.Undefined();
}

Napi::Value Axpy(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 x = as_f32(env, info[0], "x"), y = as_f32(env, info[1], "y");
  need(env, "axpy", "y", y.length, x.length);
  axpy(x.data, y.data, x.length, static_cast<float>(as_number(env, info[2], "alpha")));
  return env.Undefined();
}

Napi::Value Affine(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 x = as_f32(env, info[0], "x"), out = as_f32(env, info[1], "out");
  need(env, "affine", "out", out.length, x.length);
  affine(x.data, out.data, x.length, static_cast<float>(as_number(env, info[2], "alpha")), static_cast<float>(as_number(env, info[3], "beta")));
  return env.Undefined();
}

Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw_type(env, "sumSquares: xs must be an array of Float32Array");
  Napi::Array xs = info[0].As<Napi::Array>();
  std::vector<const float*> ptrs(xs.Length());
  std::vector<int64_t> lengths(xs.Length());
  for (uint32_t i = 0; i < xs.Length(); i++) {
    const F32 x = as_f32(env, xs.Get(i), "sumSquares: xs[i]");
    ptrs[i] = x.data;
    lengths[i] = x.length;
  }
  return Napi::Number::New(env, sum_squares(ptrs.data(), lengths.data(), static_cast<int>(ptrs.size())));
}

// ---- linear algebra

Napi::Value Matmul(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 a = as_f32(env, info[0], "a"), b = as_f32(env, info[1], "b"), out = as_f32(env, info[2], "out");
  const Napi::Object o = as_object(env, info[3], "matmul params");
  GemmParams p;
  p.batch = as_size(env, o.Get("batch"), "batch");
  p.m = as_size(env, o.Get("m"), "m");
  p.n = as_size(env, o.Get("n"), "n");
  p.k = as_size(env, o.Get("k"), "k");
  p.trans_a = as_bool(o.Get("transA"));
  p.trans_b = as_bool(o.Get("transB"));
  const Napi::Value sa = o.Get("strideA"), sb = o.Get("strideB");
  p.stride_a = sa.IsUndefined() ? p.m * p.k : as_size(env, sa, "strideA");
  p.stride_b = sb.IsUndefined() ? p.k * p.n : as_size(env, sb, "strideB");
  p.accumulate = as_bool(o.Get("accumulate"));
  if (p.batch > 0) {
    if (p.m * p.k > 0) need(env, "matmul", "a", a.length, (p.batch - 1) * p.stride_a + p.m * p.k);
    if (p.k * p.n > 0) need(env, "matmul", "b", b.length, (p.batch - 1) * p.stride_b + p.k * p.n);
    need(env, "matmul", "out", out.length, p.batch * p.m * p.n);
  }
  if (as_bool(o.Get("bf16"))) gemm_bf16(a.data, b.data, out.data, p);
  else gemm(a.data, b.data, out.data, p);
  return env.Undefined();
}

// ---- int8 inference (qgemm.h)

Napi::Value QuantizeRows(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 x = as_f32(env, info[0], "x"), scales = as_f32(env, info[2], "scales");
  const I8 q = as_i8(env, info[1], "q");
  const int64_t rows = as_size(env, info[3], "rows"), cols = as_size(env, info[4], "cols");
  need(env, "quantizeRows", "x", x.length, rows * cols);
  need(env, "quantizeRows", "q", q.length, rows * cols);
  need(env, "quantizeRows", "scales", scales.length, rows);
  quantize_rows(x.data, q.data, scales.data, rows, cols);
  return env.Undefined();
}

Napi::Value PackInt8(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const I8 q = as_i8(env, info[0], "q"), packed = as_i8(env, info[1], "packed");
  const int64_t n = as_size(env, info[2], "n"), k = as_size(env, info[3], "k");
  need(env, "packInt8", "q", q.length, n * k);
  need(env, "packInt8", "packed", packed.length, qgemm_packed_length(n, k));
  qgemm_pack(q.data, packed.data, n, k);
  return env.Undefined();
}

Napi::Value QLinear(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 x = as_f32(env, info[0], "x"), scales = as_f32(env, info[2], "wScales"), out = as_f32(env, info[4], "out");
  const I8 packed = as_i8(env, info[1], "packed");
  const bool has_bias = !info[3].IsNull() && !info[3].IsUndefined();
  const Napi::Object o = as_object(env, info[5], "qlinear params");
  const int64_t m = as_size(env, o.Get("rows"), "rows"), n = as_size(env, o.Get("n"), "n"), k = as_size(env, o.Get("k"), "k");
  need(env, "qlinear", "x", x.length, m * k);
  need(env, "qlinear", "packed", packed.length, qgemm_packed_length(n, k));
  need(env, "qlinear", "wScales", scales.length, n);
  need(env, "qlinear", "out", out.length, m * n);
  const float* bias = nullptr;
  if (has_bias) {
    const F32 b = as_f32(env, info[3], "bias");
    need(env, "qlinear", "bias", b.length, n);
    bias = b.data;
  }
  qlinear(x.data, packed.data, scales.data, bias, out.data, m, n, k);
  return env.Undefined();
}

// ---- elementwise

Napi::Value UnaryFn(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const Unary op = unary_op(env, info[0]);
  const F32 x = as_f32(env, info[1], "x"), out = as_f32(env, info[2], "out");
  need(env, "unary", "out", out.length, x.length);
  unary(op, x.data, out.data, x.length, static_cast<float>(as_number(env, info[3], "param")));
  return env.Undefined();
}

Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const Unary op = unary_op(env, info[0]);
  const F32 x = as_f32(env, info[1], "x"), y = as_f32(env, info[2], "y"), dy = as_f32(env, info[3], "dy"), dx = as_f32(env, info[4], "dx");
  need(env, "unaryBackward", "y", y.length, x.length);
  need(env, "unaryBackward", "dy", dy.length, x.length);
  need(env, "unaryBackward", "dx", dx.length, x.length);
  unary_backward(op, x.data, y.data, dy.data, dx.data, x.length, static_cast<float>(as_number(env, info[5], "param")));
  return env.Undefined();
}

Napi::Value BinaryFn(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const Binary op = binary_op(env, info[0]);
  const F32 a = as_f32(env, info[1], "a"), b = as_f32(env, info[2], "b"), out = as_f32(env, info[3], "out");
  const IntList shape = as_int_list(env, info[4], "shape", true);
  const IntList as = as_int_list(env, info[5], "aStrides", false), bs = as_int_list(env, info[6], "bStrides", false);
  check_rank(env, "binary", shape, {as.size(), bs.size()});
  check_view(env, "binary", "a", a.length, 0, as, shape);
  check_view(env, "binary", "b", b.length, 0, bs, shape);
  need(env, "binary", "out", out.length, product(env, shape));
  binary(op, a.data, b.data, out.data, shape.data(), static_cast<int>(shape.size()), as.data(), bs.data());
  return env.Undefined();
}

Napi::Value Where(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 c = as_f32(env, info[0], "cond"), a = as_f32(env, info[1], "a"), b = as_f32(env, info[2], "b"), out = as_f32(env, info[3], "out");
  const IntList shape = as_int_list(env, info[4], "shape", true);
  const IntList cs = as_int_list(env, info[5], "cStrides", false), as = as_int_list(env, info[6], "aStrides", false),
                             bs = as_int_list(env, info[7], "bStrides", false);
  check_rank(env, "where", shape, {cs.size(), as.size(), bs.size()});
  check_view(env, "where", "cond", c.length, 0, cs, shape);
  check_view(env, "where", "a", a.length, 0, as, shape);
  check_view(env, "where", "b", b.length, 0, bs, shape);
  need(env, "where", "out", out.length, product(env, shape));
  where(c.data, a.data, b.data, out.data, shape.data(), static_cast<int>(shape.size()), cs.data(), as.data(), bs.data());
  return env.Undefined();
}

// ---- layout

Napi::Value StridedCopy(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const Napi::Value src = info[0], dst = info[2];
  const bool is_int = src.IsTypedArray() && src.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array;
  void* sp;
  void* dp;
  int64_t slen, dlen;
  if (is_int) {
    const I32 s = as_i32(env, src, "stridedCopy: src"), d = as_i32(env, dst, "stridedCopy: dst (an Int32Array like src)");
    sp = s.data, dp = d.data, slen = s.length, dlen = d.length;
  } else {
    const F32 s = as_f32(env, src, "stridedCopy: src"), d = as_f32(env, dst, "stridedCopy: dst (a Float32Array like src)");
    sp = s.data, dp = d.data, slen = s.length, dlen = d.length;
  }
  const Napi::Object from = as_object(env, info[1], "from"), to = as_object(env, info[3], "to");
  const int64_t soff = as_int(env, from.Get("offset"), "from.offset"), doff = as_int(env, to.Get("offset"), "to.offset");
  const IntList ss = as_int_list(env, from.Get("strides"), "from.strides", false);
  const IntList ds = as_int_list(env, to.Get("strides"), "to.strides", false);
  const IntList shape = as_int_list(env, info[4], "shape", true);
  check_rank(env, "stridedCopy", shape, {ss.size(), ds.size()});
  check_view(env, "stridedCopy", "src", slen, soff, ss, shape);
  check_view(env, "stridedCopy", "dst", dlen, doff, ds, shape);
  strided_copy(sp, soff, ss.data(), dp, doff, ds.data(), shape.data(), static_cast<int>(shape.size()), as_bool(info[5]), is_int);
  return env.Undefined();
}

// ---- reductions

Napi::Value ReduceFn(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const std::string op = info[0].ToString().Utf8Value();
  const Reduce r = op == "sum" ? Reduce::Sum : op == "max" ? Reduce::Max : op == "min" ? Reduce::Min : (throw_type(env, "unknown reduce op \"" + op + "\""), Reduce::Sum);
  const F32 x = as_f32(env, info[1], "x"), out = as_f32(env, info[2], "out");
  const Axis s = axis_sizes(env, info[3]);
  need(env, "reduce", "x", x.length, s.outer * s.dim * s.inner);
  need(env, "reduce", "out", out.length, s.outer * s.inner);
  reduce(r, x.data, out.data, s.outer, s.dim, s.inner);
  return env.Undefined();
}

Napi::Value ArgReduce(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const std::string op = info[0].ToString().Utf8Value();
  if (op != "argmax" && op != "argmin") throw_type(env, "unknown argReduce op \"" + op + "\"");
  const F32 x = as_f32(env, info[1], "x");
  const I32 out = as_i32(env, info[2], "out");
  const Axis s = axis_sizes(env, info[3]);
  need(env, "argReduce", "x", x.length, s.outer * s.dim * s.inner);
  need(env, "argReduce", "out", out.length, s.outer * s.inner);
  arg_reduce(op == "argmax", x.data, out.data, s.outer, s.dim, s.inner);
  return env.Undefined();
}

void check_indices(const Napi::Env& env, const I32& idx, const Axis& s) {
  const int64_t bad = first_out_of_range(idx.data, s.outer * s.inner, s.dim);
  if (bad >= 0)
    throw_range(env, "index " + std::to_string(idx.data[bad]) + " is out of range for an axis of size " + std::to_string(s.dim));
}

Napi::Value GatherAxis(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 x = as_f32(env, info[0], "x"), out = as_f32(env, info[2], "out");
  const I32 idx = as_i32(env, info[1], "idx");
  const Axis s = axis_sizes(env, info[3]);
  need(env, "gatherAxis", "x", x.length, s.outer * s.dim * s.inner);
  need(env, "gatherAxis", "idx", idx.length, s.outer * s.inner);
  need(env, "gatherAxis", "out", out.length, s.outer * s.inner);
  check_indices(env, idx, s);
  gather_axis(x.data, idx.data, out.data, s.outer, s.dim, s.inner);
  return env.Undefined();
}

Napi::Value ScatterAddAxis(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 dy = as_f32(env, info[0], "dy"), dx = as_f32(env, info[2], "dx");
  const I32 idx = as_i32(env, info[1], "idx");
  const Axis s = axis_sizes(env, info[3]);
  need(env, "scatterAddAxis", "dy", dy.length, s.outer * s.inner);
  need(env, "scatterAddAxis", "idx", idx.length, s.outer * s.inner);
  need(env, "scatterAddAxis", "dx", dx.length, s.outer * s.dim * s.inner);
  check_indices(env, idx, s);
  scatter_add_axis(dy.data, idx.data, dx.data, s.outer, s.dim, s.inner);
  return env.Undefined();
}

// ---- neural-network kernels

Napi::Value Softmax(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 x = as_f32(env, info[0], "x"), out = as_f32(env, info[1], "out");
  const int64_t rows = as_size(env, info[2], "rows"), cols = as_size(env, info[3], "cols");
  need(env, "softmax", "x", x.length, rows * cols);
  need(env, "softmax", "out", out.length, rows * cols);
  softmax(x.data, out.data, rows, cols, as_bool(info[4]));
  return env.Undefined();
}

Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 y = as_f32(env, info[0], "y"), dy = as_f32(env, info[1], "dy"), dx = as_f32(env, info[2], "dx");
  const int64_t rows = as_size(env, info[3], "rows"), cols = as_size(env, info[4], "cols");
  need(env, "softmaxBackward", "y", y.length, rows * cols);
  need(env, "softmaxBackward", "dy", dy.length, rows * cols);
  need(env, "softmaxBackward", "dx", dx.length, rows * cols);
  softmax_backward(y.data, dy.data, dx.data, rows, cols, as_bool(info[5]), 1.0f);
  return env.Undefined();
}

Napi::Value AttentionSoftmax(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 x = as_f32(env, info[0], "x"), out = as_f32(env, info[2], "out");
  const Napi::Object o = as_object(env, info[3], "attention softmax params");
  AttentionSoftmaxParams p;
  p.batch = as_size(env, o.Get("batch"), "batch");
  p.heads = as_size(env, o.Get("heads"), "heads");
  p.queries = as_size(env, o.Get("queries"), "queries");
  p.keys = as_size(env, o.Get("keys"), "keys");
  p.scale = static_cast<float>(as_number(env, o.Get("scale"), "scale"));
  p.causal = as_bool(o.Get("causal"));
  const int64_t n = p.batch * p.heads * p.queries * p.keys;
  need(env, "attentionSoftmax", "x", x.length, n);
  need(env, "attentionSoftmax", "out", out.length, n);
  const float* keep = nullptr;
  if (!info[1].IsNull() && !info[1].IsUndefined()) {
    const F32 k = as_f32(env, info[1], "keep");
    need(env, "attentionSoftmax", "keep", k.length, p.batch * p.keys);
    keep = k.data;
  }
  const int32_t* segments = nullptr;
  if (info.Length() > 4 && !info[4].IsNull() && !info[4].IsUndefined()) {
    const I32 s = as_i32(env, info[4], "segments");
    need(env, "attentionSoftmax", "segments", s.length, p.batch * p.keys);
    if (p.queries > p.keys) throw_range(env, "attentionSoftmax: segments need queries <= keys");
    segments = s.data;
  }
  if (n > 0) attention_softmax(x.data, keep, out.data, p, segments);
  return env.Undefined();
}

Napi::Value AttentionSoftmaxBackward(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 y = as_f32(env, info[0], "y"), dy = as_f32(env, info[1], "dy"), dx = as_f32(env, info[2], "dx");
  const int64_t rows = as_size(env, info[3], "rows"), cols = as_size(env, info[4], "cols");
  need(env, "attentionSoftmaxBackward", "y", y.length, rows * cols);
  need(env, "attentionSoftmaxBackward", "dy", dy.length, rows * cols);
  need(env, "attentionSoftmaxBackward", "dx", dx.length, rows * cols);
  softmax_backward(y.data, dy.data, dx.data, rows, cols, false, static_cast<float>(as_number(env, info[5], "scale")));
  return env.Undefined();
}

Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 x = as_f32(env, info[0], "x"), gamma = as_f32(env, info[1], "gamma"), beta = as_f32(env, info[2], "beta");
  const F32 out = as_f32(env, info[3], "out"), mean = as_f32(env, info[4], "mean"), rstd = as_f32(env, info[5], "rstd");
  const int64_t rows = as_size(env, info[6], "rows"), cols = as_size(env, info[7], "cols");
  need(env, "layerNorm", "x", x.length, rows * cols);
  need(env, "layerNorm", "gamma", gamma.length, cols);
  need(env, "layerNorm", "beta", beta.length, cols);
  need(env, "layerNorm", "out", out.length, rows * cols);
  need(env, "layerNorm", "mean", mean.length, rows);
  need(env, "layerNorm", "rstd", rstd.length, rows);
  layer_norm(x.data, gamma.data, beta.data, out.data, mean.data, rstd.data, rows, cols, static_cast<float>(as_number(env, info[8], "eps")));
  return env.Undefined();
}

Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 dy = as_f32(env, info[0], "dy"), x = as_f32(env, info[1], "x"), gamma = as_f32(env, info[2], "gamma");
  const F32 mean = as_f32(env, info[3], "mean"), rstd = as_f32(env, info[4], "rstd"), dx = as_f32(env, info[5], "dx");
  const F32 dgamma = as_f32(env, info[6], "dgamma"), dbeta = as_f32(env, info[7], "dbeta");
  const int64_t rows = as_size(env, info[8], "rows"), cols = as_size(env, info[9], "cols");
  need(env, "layerNormBackward", "dy", dy.length, rows * cols);
  need(env, "layerNormBackward", "x", x.length, rows * cols);
  need(env, "layerNormBackward", "gamma", gamma.length, cols);
  need(env, "layerNormBackward", "mean", mean.length, rows);
  need(env, "layerNormBackward", "rstd", rstd.length, rows);
  need(env, "layerNormBackward", "dx", dx.length, rows * cols);
  need(env, "layerNormBackward", "dgamma", dgamma.length, cols);
  need(env, "layerNormBackward", "dbeta", dbeta.length, cols);
  layer_norm_backward(dy.data, x.data, gamma.data, mean.data, rstd.data, dx.data, dgamma.data, dbeta.data, rows, cols);
  return env.Undefined();
}

Napi::Value Embedding(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 table = as_f32(env, info[0], "table"), out = as_f32(env, info[2], "out");
  const I32 ids = as_i32(env, info[1], "ids");
  const int64_t rows = as_size(env, info[3], "rows"), dim = as_size(env, info[4], "dim"), vocab = as_size(env, info[5], "vocab");
  need(env, "embedding", "ids", ids.length, rows);
  need(env, "embedding", "table", table.length, vocab * dim);
  need(env, "embedding", "out", out.length, rows * dim);
  const int64_t bad = first_out_of_range(ids.data, rows, vocab);
  if (bad >= 0)
    throw_range(env, "embedding: id " + std::to_string(ids.data[bad]) + " at position " + std::to_string(bad) +
                         " is out of range for a vocabulary of " + std::to_string(vocab));
  embedding(table.data, ids.data, out.data, rows, dim);
  return env.Undefined();
}

Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 dy = as_f32(env, info[0], "dy"), dtable = as_f32(env, info[2], "dTable");
  const I32 ids = as_i32(env, info[1], "ids");
  const int64_t rows = as_size(env, info[3], "rows"), dim = as_size(env, info[4], "dim");
  need(env, "embeddingBackward", "ids", ids.length, rows);
  need(env, "embeddingBackward", "dy", dy.length, rows * dim);
  const int64_t vocab = dim > 0 ? dtable.length / dim : 0;
  const int64_t bad = dim > 0 ? first_out_of_range(ids.data, rows, vocab) : -1;
  if (bad >= 0)
    throw_range(env, "embedding: id " + std::to_string(ids.data[bad]) + " at position " + std::to_string(bad) +
                         " is out of range for a vocabulary of " + std::to_string(vocab));
  embedding_backward(dy.data, ids.data, dtable.data, rows, dim);
  return env.Undefined();
}

Napi::Value Dropout(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 x = as_f32(env, info[0], "x"), out = as_f32(env, info[1], "out"), mask = as_f32(env, info[2], "mask");
  need(env, "dropout", "out", out.length, x.length);
  need(env, "dropout", "mask", mask.length, x.length);
  const double p = as_number(env, info[3], "p");
  // the seed as JavaScript's `>>> 0` would read it
  const double s = as_number(env, info[4], "seed");
  const uint32_t seed = std::isfinite(s) ? static_cast<uint32_t>(static_cast<int64_t>(std::fmod(std::trunc(s), 4294967296.0)) & 0xffffffff) : 0u;
  dropout(x.data, out.data, mask.data, x.length, p, seed);
  return env.Undefined();
}

CrossEntropyParams ce_params(const Napi::Env& env, const Napi::Value& v) {
  const Napi::Object o = as_object(env, v, "cross-entropy params");
  CrossEntropyParams p;
  p.rows = as_size(env, o.Get("rows"), "rows");
  p.classes = as_size(env, o.Get("classes"), "classes");
  const int64_t ignore = as_int(env, o.Get("ignoreIndex"), "ignoreIndex");
  // an ignore index no int32 target can equal ignores nothing
  p.ignore_index = ignore >= INT32_MIN && ignore <= INT32_MAX ? static_cast<int32_t>(ignore) : INT32_MIN;
  if (ignore < INT32_MIN || ignore > INT32_MAX) p.ignore_index = INT32_MIN;
  p.smoothing = static_cast<float>(as_number(env, o.Get("smoothing"), "smoothing"));
  return p;
}

void check_targets(const Napi::Env& env, const I32& targets, const CrossEntropyParams& p) {
  const int64_t bad = cross_entropy_first_bad_target(targets.data, p);
  if (bad >= 0)
    throw_range(env, "cross-entropy: target " + std::to_string(targets.data[bad]) + " in row " + std::to_string(bad) +
                         " is out of range for " + std::to_string(p.classes) + " classes");
}

const float* optional_weights(const Napi::Env& env, const Napi::Value& v, const char* method, int64_t classes) {
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  const F32 w = as_f32(env, v, "weights");
  need(env, method, "weights", w.length, classes);
  return w.data;
}

Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 logits = as_f32(env, info[0], "logits"), losses = as_f32(env, info[3], "losses");
  const I32 targets = as_i32(env, info[1], "targets");
  const CrossEntropyParams p = ce_params(env, info[4]);
  const float* weights = optional_weights(env, info[2], "crossEntropy", p.classes);
  need(env, "crossEntropy", "logits", logits.length, p.rows * p.classes);
  need(env, "crossEntropy", "targets", targets.length, p.rows);
  need(env, "crossEntropy", "losses", losses.length, p.rows);
  check_targets(env, targets, p);
  cross_entropy(logits.data, targets.data, weights, losses.data, p);
  return env.Undefined();
}

Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const F32 logits = as_f32(env, info[0], "logits"), dlosses = as_f32(env, info[3], "dlosses"), dlogits = as_f32(env, info[4], "dlogits");
  const I32 targets = as_i32(env, info[1], "targets");
  const CrossEntropyParams p = ce_params(env, info[5]);
  const float* weights = optional_weights(env, info[2], "crossEntropyBackward", p.classes);
  need(env, "crossEntropyBackward", "logits", logits.length, p.rows * p.classes);
  need(env, "crossEntropyBackward", "targets", targets.length, p.rows);
  need(env, "crossEntropyBackward", "dlosses", dlosses.length, p.rows);
  need(env, "crossEntropyBackward", "dlogits", dlogits.length, p.rows * p.classes);
  check_targets(env, targets, p);
  cross_entropy_backward(logits.data, targets.data, weights, dlosses.data, dlogits.data, p);
  return env.Undefined();
}

Napi::Value BiasActivation(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const Activation act = activation_op(env, info[0]);
  const F32 x = as_f32(env, info[1], "x"), bias = as_f32(env, info[2], "bias"), out = as_f32(env, info[3], "out");
  const int64_t rows = as_size(env, info[4], "rows"), cols = as_size(env, info[5], "cols");
  need(env, "biasActivation", "x", x.length, rows * cols);
  need(env, "biasActivation", "bias", bias.length, cols);
  need(env, "biasActivation", "out", out.length, rows * cols);
  bias_activation(act, x.data, bias.data, out.data, rows, cols);
  return env.Undefined();
}

Napi::Value BiasActivationBackward(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const Activation act = activation_op(env, info[0]);
  const F32 x = as_f32(env, info[1], "x"), bias = as_f32(env, info[2], "bias"), dy = as_f32(env, info[3], "dy");
  const F32 dx = as_f32(env, info[4], "dx"), dbias = as_f32(env, info[5], "dbias");
  const int64_t rows = as_size(env, info[6], "rows"), cols = as_size(env, info[7], "cols");
  need(env, "biasActivationBackward", "x", x.length, rows * cols);
  need(env, "biasActivationBackward", "bias", bias.length, cols);
  need(env, "biasActivationBackward", "dy", dy.length, rows * cols);
  need(env, "biasActivationBackward", "dx", dx.length, rows * cols);
  need(env, "biasActivationBackward", "dbias", dbias.length, cols);
  bias_activation_backward(act, x.data, bias.data, dy.data, dx.data, dbias.data, rows, cols);
  return env.Undefined();
}

// ---- optimizers

std::vector<F32> f32_list(const Napi::Env& env, const Napi::Value& v, const char* what, bool allow_null) {
  if (!v.IsArray()) throw_type(env, std::string(what) + " must be an array of Float32Array");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<F32> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) {
    const Napi::Value e = a.Get(i);
    out[i] = allow_null && (e.IsNull() || e.IsUndefined()) ? F32{nullptr, 0} : as_f32(env, e, what);
  }
  return out;
}

Napi::Value Adam(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const std::vector<F32> ps = f32_list(env, info[0], "params", false), gs = f32_list(env, info[1], "grads", false);
  const std::vector<F32> ms = f32_list(env, info[2], "m", false), vs = f32_list(env, info[3], "v", false);
  if (gs.size() != ps.size() || ms.size() != ps.size() || vs.size() != ps.size())
    throw_range(env, "adam: params, grads, m and v must have the same length");
  std::vector<float*> p(ps.size()), m(ps.size()), v(ps.size());
  std::vector<const float*> g(ps.size());
  std::vector<int64_t> lengths(ps.size());
  for (size_t t = 0; t < ps.size(); t++) {
    need(env, "adam", "grads[i]", gs[t].length, ps[t].length);
    need(env, "adam", "m[i]", ms[t].length, ps[t].length);
    need(env, "adam", "v[i]", vs[t].length, ps[t].length);
    p[t] = ps[t].data, g[t] = gs[t].data, m[t] = ms[t].data, v[t] = vs[t].data, lengths[t] = ps[t].length;
  }
  const Napi::Object o = as_object(env, info[4], "adam hyperparameters");
  AdamHyper h;
  h.lr = as_number(env, o.Get("lr"), "lr");
  h.beta1 = as_number(env, o.Get("beta1"), "beta1");
  h.beta2 = as_number(env, o.Get("beta2"), "beta2");
  h.eps = as_number(env, o.Get("eps"), "eps");
  h.weight_decay = as_number(env, o.Get("weightDecay"), "weightDecay");
  h.decoupled = as_bool(o.Get("decoupled"));
  h.step = as_number(env, o.Get("step"), "step");
  adam(p.data(), g.data(), m.data(), v.data(), lengths.data(), static_cast<int>(p.size()), h);
  return env.Undefined();
}

Napi::Value Sgd(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const std::vector<F32> ps = f32_list(env, info[0], "params", false), gs = f32_list(env, info[1], "grads", false);
  const std::vector<F32> bs = f32_list(env, info[2], "momentum", true);
  if (gs.size() != ps.size() || bs.size() != ps.size()) throw_range(env, "sgd: params, grads and momentum must have the same length");
  std::vector<float*> p(ps.size()), b(ps.size());
  std::vector<const float*> g(ps.size());
  std::vector<int64_t> lengths(ps.size());
  for (size_t t = 0; t < ps.size(); t++) {
    need(env, "sgd", "grads[i]", gs[t].length, ps[t].length);
    if (bs[t].data != nullptr) need(env, "sgd", "momentum[i]", bs[t].length, ps[t].length);
    p[t] = ps[t].data, g[t] = gs[t].data, b[t] = bs[t].data, lengths[t] = ps[t].length;
  }
  const Napi::Object o = as_object(env, info[3], "sgd hyperparameters");
  SgdHyper h;
  h.lr = as_number(env, o.Get("lr"), "lr");
  h.momentum = as_number(env, o.Get("momentum"), "momentum");
  h.dampening = as_number(env, o.Get("dampening"), "dampening");
  h.nesterov = as_bool(o.Get("nesterov"));
  h.weight_decay = as_number(env, o.Get("weightDecay"), "weightDecay");
  h.first_step = as_bool(o.Get("firstStep"));
  sgd(p.data(), g.data(), b.data(), lengths.data(), static_cast<int>(p.size()), h);
  return env.Undefined();
}

// ---- fused attention (kernels/attention.h)

FlashAttentionParams flash_params(const Napi::Env& env, const Napi::Value& v) {
  const Napi::Object o = as_object(env, v, "flash attention params");
  FlashAttentionParams p;
  p.batch = as_size(env, o.Get("batch"), "batch");
  p.heads = as_size(env, o.Get("heads"), "heads");
  p.queries = as_size(env, o.Get("queries"), "queries");
  p.keys = as_size(env, o.Get("keys"), "keys");
  p.dim = as_size(env, o.Get("dim"), "dim");
  const Napi::Value rows = o.Get("kvRows");
  p.kv_rows = rows.IsUndefined() || rows.IsNull() ? p.keys : as_size(env, rows, "kvRows");
  if (p.kv_rows < p.keys) throw_range(env, "flashAttention: kvRows must be at least keys");
  const Napi::Value kvh = o.Get("kvHeads");
  p.kv_heads = kvh.IsUndefined() || kvh.IsNull() ? p.heads : as_size(env, kvh, "kvHeads");
  if (p.kv_heads < 1 ? p.heads != 0 : p.heads % p.kv_heads != 0)
    throw_range(env, "flashAttention: kvHeads must divide heads");
  p.scale = static_cast<float>(as_number(env, o.Get("scale"), "scale"));
  p.causal = as_bool(o.Get("causal"));
  return p;
}

// q, k, v, keep, segments: checked against p; returns the masks
FlashMasks flash_inputs(const Napi::Env& env, const Napi::CallbackInfo& info, const FlashAttentionParams& p,
                        const char* method) {
  need(env, method, "q", as_f32(env, info[0], "q").length, p.batch * p.heads * p.queries * p.dim);
  need(env, method, "k", as_f32(env, info[1], "k").length, p.batch * p.kv_heads * p.kv_rows * p.dim);
  need(env, method, "v", as_f32(env, info[2], "v").length, p.batch * p.kv_heads * p.kv_rows * p.dim);
  FlashMasks m{nullptr, nullptr};
  if (!info[3].IsNull() && !info[3].IsUndefined()) {
    const F32 keep = as_f32(env, info[3], "keep");
    need(env, method, "keep", keep.length, p.batch * p.keys);
    m.keep = keep.data;
  }
  if (!info[4].IsNull() && !info[4].IsUndefined()) {
    const I32 seg = as_i32(env, info[4], "segments");
    need(env, method, "segments", seg.length, p.batch * p.keys);
    if (p.queries > p.keys) throw_range(env, std::string(method) + ": segments need queries <= keys");
    m.segments = seg.data;
  }
  return m;
}

Napi::Value FlashAttention(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const FlashAttentionParams p = flash_params(env, info[7]);
  const FlashMasks m = flash_inputs(env, info, p, "flashAttention");
  const F32 out = as_f32(env, info[5], "out"), lse = as_f32(env, info[6], "lse");
  need(env, "flashAttention", "out", out.length, p.batch * p.heads * p.queries * p.dim);
  need(env, "flashAttention", "lse", lse.length, p.batch * p.heads * p.queries);
  flash_attention(as_f32(env, info[0], "q").data, as_f32(env, info[1], "k").data, as_f32(env, info[2], "v").data, m,
                  out.data, lse.data, p);
  return env.Undefined();
}

Napi::Value FlashAttentionBackward(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const FlashAttentionParams p = flash_params(env, info[11]);
  const FlashMasks m = flash_inputs(env, info, p, "flashAttentionBackward");
  const int64_t nq = p.batch * p.heads * p.queries * p.dim, nk = p.batch * p.kv_heads * p.kv_rows * p.dim;
  const F32 out = as_f32(env, info[5], "out"), lse = as_f32(env, info[6], "lse"), dout = as_f32(env, info[7], "dout");
  const F32 dq = as_f32(env, info[8], "dq"), dk = as_f32(env, info[9], "dk"), dv = as_f32(env, info[10], "dv");
  need(env, "flashAttentionBackward", "out", out.length, nq);
  need(env, "flashAttentionBackward", "lse", lse.length, p.batch * p.heads * p.queries);
  need(env, "flashAttentionBackward", "dout", dout.length, nq);
  need(env, "flashAttentionBackward", "dq", dq.length, nq);
  need(env, "flashAttentionBackward", "dk", dk.length, nk);
  need(env, "flashAttentionBackward", "dv", dv.length, nk);
  flash_attention_backward(as_f32(env, info[0], "q").data, as_f32(env, info[1], "k").data,
                           as_f32(env, info[2], "v").data, m, out.data, lse.data, dout.data, dq.data, dk.data, dv.data,
                           p);
  return env.Undefined();
}

// ---- the binding table: every kernel, in the order of KERNEL_METHODS

struct Binding {
  const char* name;
  Napi::Value (*fn)(const Napi::CallbackInfo&);
};

constexpr Binding kBindings[] = {
    {"fill", Fill},
    {"axpy", Axpy},
    {"affine", Affine},
    {"sumSquares", SumSquares},
    {"matmul", Matmul},
    {"unary", UnaryFn},
    {"unaryBackward", UnaryBackward},
    {"binary", BinaryFn},
    {"where", Where},
    {"stridedCopy", StridedCopy},
    {"reduce", ReduceFn},
    {"argReduce", ArgReduce},
    {"gatherAxis", GatherAxis},
    {"scatterAddAxis", ScatterAddAxis},
    {"softmax", Softmax},
    {"softmaxBackward", SoftmaxBackward},
    {"attentionSoftmax", AttentionSoftmax},
    {"attentionSoftmaxBackward", AttentionSoftmaxBackward},
    {"layerNorm", LayerNorm},
    {"layerNormBackward", LayerNormBackward},
    {"embedding", Embedding},
    {"embeddingBackward", EmbeddingBackward},
    {"dropout", Dropout},
    {"crossEntropy", CrossEntropy},
    {"crossEntropyBackward", CrossEntropyBackward},
    {"biasActivation", BiasActivation},
    {"biasActivationBackward", BiasActivationBackward},
    {"adam", Adam},
    {"sgd", Sgd},
    {"flashAttention", FlashAttention},
    {"flashAttentionBackward", FlashAttentionBackward},
    {"quantizeRows", QuantizeRows},
    {"packInt8", PackInt8},
    {"qlinear", QLinear},
};
// Kept in step with KERNEL_METHODS in src/backend/backend.ts (test/backend/addon.test.ts checks the names).
static_assert(sizeof kBindings / sizeof kBindings[0] == 34, "a Backend method was added or removed: update kBindings");

std::string cpu_flags() {
  const CpuFeatures& f = cpu_features();
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (on) s += (s.empty() ? "" : " ") + std::string(name);
  };
  add(f.avx2, "avx2");
  add(f.fma, "fma");
  add(f.avx512f, "avx512f");
  add(f.avx512bw, "avx512bw");
  add(f.avx512vl, "avx512vl");
  add(f.avx512dq, "avx512dq");
  add(f.avx512bf16, "avx512bf16");
  add(f.amx_bf16, "amx-bf16");
  return s.empty() ? "none" : s;
}

// What `graft doctor` prints: the SIMD level the kernels run at, the GEMM micro-kernel, threads, CPU features.
Napi::Value Info(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("simd", simd_level_name(simd_level()));
  o.Set("gemm", gemm_kernel().name);
  o.Set("gemmBf16", gemm_bf16_kernel().name);
  o.Set("qgemm", qgemm_kernel().name);
  o.Set("threads", thread_count());
  o.Set("cpu", cpu_flags());
  return o;
}

Napi::Value CreateBackend(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  Napi::Object b = Napi::Object::New(env);
  b.Set("name", "native");
  for (const Binding& m : kBindings) b.Set(m.name, Napi::Function::New(env, m.fn, m.name));
  b.Set("info", Napi::Function::New(env, Info, "info"));
  return b;
}

// Caps the SIMD level ("portable", "avx2", "avx512") so tests can run the fallback kernels on any machine;
// returns the level now in effect.
Napi::Value SetSimdLevel(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const std::string s = info[0].ToString().Utf8Value();
  SimdLevel cap;
  if (s == "portable") cap = SimdLevel::Portable;
  else if (s == "avx2") cap = SimdLevel::Avx2;
  else if (s == "avx512") cap = SimdLevel::Avx512;
  else throw_type(env, "unknown SIMD level \"" + s + "\" (portable, avx2 or avx512)");
  set_simd_cap(cap);
  return Napi::String::New(env, simd_level_name(simd_level()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("createBackend", Napi::Function::New(env, CreateBackend, "createBackend"));
  exports.Set("setSimdLevel", Napi::Function::New(env, SetSimdLevel, "setSimdLevel"));
  exports.Set("supportedSimdLevel", Napi::String::New(env, simd_level_name(simd_level_supported())));
  return exports;
}

}  // namespace

NODE_API_MODULE(graft_native, Init)
