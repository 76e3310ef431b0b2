// Branch-free single-precision math that compilers auto-vectorize: exp, log, tanh, erf and the activations built
// on them. std::exp and friends are scalar library calls that stop a loop from vectorizing, and the activations of
// a transformer (GELU over a [tokens, 4·hidden] tensor, softmax over every attention row) would then cost as much
// as the matrix products around them. These are written as straight-line code over floats and ints (selects
// instead of branches), so a loop calling them becomes 4, 8 or 16 lanes wide depending on the flags the
// including file is compiled with (see vec_impl.inc).
//
// Accuracy: exp, log ~1-2 ulp (Cephes' polynomials, range reduction in two parts); tanh ~2 ulp; erf within 4e-7
// absolute and 3e-7 relative near 0 (a rational fit; the TypeScript backend's erf is within 1.2e-7). Special values follow IEEE: NaN in, NaN out; exp(±inf) = inf / 0;
// log(0) = -inf, log(x < 0) = NaN.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

namespace graft {
namespace vm {

inline float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline uint32_t float_to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

constexpr float kInf = std::numeric_limits<float>::infinity();

// Round to nearest integer, valid for |x| < 2^22 (the magic-number trick vectorizes where nearbyint may not).
inline float round_small(float x) {
  const float magic = 12582912.0f;  // 1.5 * 2^23
  return (x + magic) - magic;
}

inline float exp(float x) {
  // exp(x) = 2^n · exp(r), n = round(x / ln 2), r = x - n·ln 2 in two parts so r is exact.
  const float xc = x > 88.8f ? 88.8f : (x < -104.0f ? -104.0f : x);  // NaN passes through both selects
  const float n = round_small(xc * 1.44269504088896341f);
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // 2^n split in two factors so results in the subnormal range (n down to -150) and up to 2^128 stay exact.
  const int32_t ni = static_cast<int32_t>(n);
  const int32_t n1 = ni >> 1, n2 = ni - n1;
  const float s1 = bits_to_float(static_cast<uint32_t>(n1 + 127) << 23);
  const float s2 = bits_to_float(static_cast<uint32_t>(n2 + 127) << 23);
  const float y = p * s1 * s2;
  return x > 88.72283935546875f ? kInf : (x < -103.972084045410f ? 0.0f : y);
}

inline float log(float x) {
  // x = 2^e · m with m in [sqrt(1/2), sqrt(2)); log x = e·ln 2 + log m, log m by Cephes' polynomial in (m - 1).
  const bool sub = x < 1.17549435e-38f;
  const float xs = sub ? x * 8388608.0f : x;  // lift subnormals by 2^23
  const uint32_t u = float_to_bits(xs);
  int32_t e = static_cast<int32_t>((u >> 23) & 0xff) - 126;
  float m = bits_to_float((u & 0x007fffffu) | 0x3f000000u);  // [0.5, 1)
  const bool lo = m < 0.707106781186547524f;
  e = lo ? e - 1 : e;
  m = lo ? m + m - 1.0f : m - 1.0f;
  const float z = m * m;
  float p = 7.0376836292e-2f;
  p = p * m - 1.1514610310e-1f;
  p = p * m + 1.1676998740e-1f;
  p = p * m - 1.2420140846e-1f;
  p = p * m + 1.4249322787e-1f;
  p = p * m - 1.6668057665e-1f;
  p = p * m + 2.0000714765e-1f;
  p = p * m - 2.4999993993e-1f;
  p = p * m + 3.3333331174e-1f;
  const float ef = static_cast<float>(sub ? e - 23 : e);
  float y = p * m * z;
  y = y + ef * -2.12194440e-4f;
  y = y - 0.5f * z;
  y = m + y;
  y = y + ef * 0.693359375f;
  // special values: log(+inf) = inf, log(0) = -inf, log(<0) = NaN, NaN -> NaN
  y = x == kInf ? kInf : y;
  y = x == 0.0f ? -kInf : y;
  y = (x < 0.0f || x != x) ? std::numeric_limits<float>::quiet_NaN() : y;
  return y;
}

inline float tanh(float x) {
  const float ax = x < 0 ? -x : x;
  // small |x|: odd polynomial (Cephes tanhf); otherwise 1 - 2/(exp(2|x|) + 1), with the sign restored.
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = x + x * z * p;
  const float e = exp(2.0f * (ax > 9.0f ? 9.0f : ax));
  float big = 1.0f - 2.0f / (e + 1.0f);
  big = ax > 9.0f ? 1.0f : big;
  big = x < 0 ? -big : big;
  return ax < 0.625f ? small : big;  // NaN: small is NaN, and NaN < 0.625 is false -> big is NaN too
}

inline float sigmoid(float x) { return 1.0f / (1.0f + exp(-x)); }

inline float erf(float x) {
  // erf(x) = x · P(x²) / Q(x²), a rational fit (degree 5 over 5 in x², our own weighted least-squares fit on
  // [0, 3.92]): one division and ten FMAs, no exp, and odd, so it is accurate relative to x near 0 too.
  // Beyond |x| = 3.92, erf(x) rounds to ±1 in single precision.
  const float xc = x > 3.92f ? 3.92f : (x < -3.92f ? -3.92f : x);  // NaN passes through
  const float z = xc * xc;
  float p = 2.16357943827461e-06f;
  p = p * z + 2.855324128177017e-04f;
  p = p * z + 3.557028714567423e-03f;
  p = p * z + 5.2123140543699265e-02f;
  p = p * z + 1.8483620882034302e-01f;
  p = p * z + 1.1283791065216064f;
  float q = 3.929947706637904e-05f;
  q = q * z + 1.1218885192647576e-03f;
  q = q * z + 1.454724371433258e-02f;
  q = q * z + 1.1190780252218246e-01f;
  q = q * z + 4.971398413181305e-01f;
  q = q * z + 1.0f;
  const float r = xc * p / q;
  return x > 3.92f ? 1.0f : (x < -3.92f ? -1.0f : r);
}

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;

inline float gelu(float x) { return 0.5f * x * (1.0f + erf(x * kInvSqrt2)); }

inline float gelu_grad(float x) { return 0.5f * (1.0f + erf(x * kInvSqrt2)) + x * kInvSqrt2Pi * exp(-0.5f * x * x); }

inline float gelu_tanh(float x) { return 0.5f * x * (1.0f + tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x))); }

inline float gelu_tanh_grad(float x) {
  const float t = tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x));
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * x * x);
}

inline float silu(float x) { return x / (1.0f + exp(-x)); }

inline float silu_grad(float x) {
  const float s = 1.0f / (1.0f + exp(-x));
  return s * (1.0f + x * (1.0f - s));
}

}  // namespace vm
}  // namespace graft
