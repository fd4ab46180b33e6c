/* backend_cpu.c — the CPU compute backend: OpenBLAS for GEMM, plain C loops
 * over elementwise.h for everything else (written so the compiler can
 * vectorize them), host memory, and a single-process allreduce. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/rng_inline.h"
#include "core/status.h"
#include "nn/backend.h"
#include "nn/gpu.h"
#include "nn/infer_cpu.h"

/* The hot loops are compiled for several x86-64 vector extensions and the
 * best one the CPU has is picked when the program loads (GCC's
 * target_clones, an ifunc), so a binary built for baseline x86-64 still runs
 * the AVX2 / AVX-512 code where it exists. The clones compute the same bits:
 * Philox is integer arithmetic, and the float loops use only IEEE-exact
 * operations (add, mul, div, sqrt) in the same order per element, and
 * CMakeLists.txt builds with -ffp-contract=off so the AVX-512 clone (whose
 * target implies FMA) does not fuse a multiply and an add. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define HPCML_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef HPCML_SIMD_CLONES
#define HPCML_SIMD_CLONES
#endif

static int cpu_alloc(void **ptr, size_t bytes)
{
    HPCML_CHECK(ptr != NULL, HPCML_EINTERNAL, "cpu_alloc: NULL out pointer");
    *ptr = NULL;
    if (bytes == 0) return HPCML_OK;
    /* 64-byte aligned for vector loads; aligned_alloc needs a multiple of it. */
    size_t rounded = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, rounded);
    HPCML_ALLOC_CHECK(p, rounded);
    memset(p, 0, rounded);
    *ptr = p;
    return HPCML_OK;
}

static void cpu_free(void *ptr)
{
    free(ptr);
}

static int cpu_copy(void *dst, const void *src, size_t bytes)
{
    if (bytes) memmove(dst, src, bytes);
    return HPCML_OK;
}

static int cpu_zero(void *ptr, size_t bytes)
{
    if (bytes) memset(ptr, 0, bytes);
    return HPCML_OK;
}

static int cpu_upload_wait(void)
{
    return HPCML_OK;
}

static int cpu_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                     int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    HPCML_CHECK(m >= 0 && n >= 0 && k >= 0, HPCML_EINTERNAL, "sgemm: negative size %d %d %d", m, n,
                k);
    if (m == 0 || n == 0) return HPCML_OK;
    if (k == 0) { /* a rank with no rows this step: C = beta C, defined here, not left to BLAS */
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                float *cij = &c[(size_t)i * ldc + j];
                *cij = beta == 0.0f ? 0.0f : beta * *cij;
            }
        return HPCML_OK;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return HPCML_OK;
}

HPCML_SIMD_CLONES static int cpu_colsum(const float *a, int rows, int cols, float beta, float *out)
{
    if (beta == 0.0f) {
        memset(out, 0, (size_t)cols * sizeof(float));
    } else if (beta != 1.0f) {
        for (int c = 0; c < cols; c++)
            out[c] *= beta;
    }
    for (int r = 0; r < rows; r++) {
        const float *row = a + (size_t)r * cols;
        for (int c = 0; c < cols; c++)
            out[c] += row[c];
    }
    return HPCML_OK;
}

static int cpu_scale(float *x, size_t n, float alpha)
{
    for (size_t i = 0; i < n; i++)
        x[i] *= alpha;
    return HPCML_OK;
}

static int cpu_sumsq(const float *x, size_t n, double *sumsq_host)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * (double)x[i];
    *sumsq_host = s;
    return HPCML_OK;
}

/* One loop per activation kind, so each is a branch-free loop the compiler
 * vectorizes (ReLU as a compare-and-mask); the per-element formulas are
 * elementwise.h's, so the values are bit-for-bit those of nn_act_forward. */

HPCML_SIMD_CLONES static int cpu_bias_act_forward(float *z, const float *bias, int rows, int cols,
                                                  nn_activation act, float *a)
{
    for (int r = 0; r < rows; r++) {
        float *zr = z + (size_t)r * cols;
        float *ar = a + (size_t)r * cols;
        switch (act) {
        case NN_ACT_RELU:
            for (int c = 0; c < cols; c++) {
                float v = zr[c] + bias[c];
                zr[c] = v;
                ar[c] = v > 0.0f ? v : 0.0f;
            }
            break;
        case NN_ACT_GELU:
            for (int c = 0; c < cols; c++) {
                float v = zr[c] + bias[c];
                zr[c] = v;
                ar[c] = nn_act_forward(NN_ACT_GELU, v);
            }
            break;
        default:
            if (ar == zr) {
                for (int c = 0; c < cols; c++)
                    zr[c] += bias[c];
            } else {
                for (int c = 0; c < cols; c++) {
                    float v = zr[c] + bias[c];
                    zr[c] = v;
                    ar[c] = v;
                }
            }
            break;
        }
    }
    return HPCML_OK;
}

/* value where v > 0, else +0, made from the compare's bits: no conditional
 * (which -ftrapping-math keeps the compiler from vectorizing). Multiplying by
 * it gives the products of a branch (da * value, da * 0), signs of zero and
 * NaN included. */
static inline float where_positive(float v, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    bits &= 0u - (uint32_t)(v > 0.0f);
    float r;
    memcpy(&r, &bits, sizeof r);
    return r;
}

/* dz = da * act'(z), one loop per kind. ReLU's 0/1 derivative is
 * where_positive(z, 1): the same product as da * nn_act_derivative(RELU, z). */
HPCML_SIMD_CLONES static int cpu_act_backward(const float *z, const float *da, size_t n,
                                              nn_activation act, float *dz)
{
    switch (act) {
    case NN_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            dz[i] = da[i] * where_positive(z[i], 1.0f);
        break;
    case NN_ACT_GELU:
        for (size_t i = 0; i < n; i++)
            dz[i] = da[i] * nn_act_derivative(NN_ACT_GELU, z[i]);
        break;
    default: /* da * 1.0f == da */
        if (dz != da) memmove(dz, da, n * sizeof(float));
        break;
    }
    return HPCML_OK;
}

/* Dropout of one row, Philox inlined and run over up to DROPOUT_CHUNK_GROUPS
 * groups of 128 units (16 blocks each) at once, as structure of arrays so the
 * rounds vectorize and independent vectors hide each other's multiply
 * latency. Block i of group g has counter {key lo, key hi, RNG_STREAM_DROPOUT,
 * lane0 + 16 g + i} and key {seed lo, seed hi}, exactly rng_block(seed,
 * RNG_STREAM_DROPOUT, key, nn_dropout_lane(layer, j)) for its units j
 * (elementwise.h). Only the lane word differs between blocks, so the first
 * round is computed once per row. Units 128 g + 16 k + i (k < 8) take the
 * 16-bit half k % 2 of word k / 2 of block i: kept iff that draw is >= thr
 * (nn_dropout_threshold), and mask = scale or 0. */
#define DROPOUT_BLOCKS       NN_DROPOUT_GROUP_BLOCKS
#define DROPOUT_CHUNK_GROUPS 4
#define DROPOUT_CHUNK_BLOCKS (DROPOUT_CHUNK_GROUPS * DROPOUT_BLOCKS)

/* Philox rounds 2..10 of n blocks (n a multiple of 16, at most
 * DROPOUT_CHUNK_BLOCKS) held as structure of arrays (w0[i], w1[i], w2[i],
 * w3[i] = block i), key (k0, k1) of round 1. The same integer arithmetic
 * three ways: portable C, and AVX2 / AVX-512 intrinsics (the compiler does
 * not vectorize the 32 x 32 -> 64-bit products itself); the widest the CPU
 * has is chosen once at run time. */
typedef void (*philox_rounds_fn)(uint32_t *w0, uint32_t *w1, uint32_t *w2, uint32_t *w3, int n,
                                 uint32_t k0, uint32_t k1);

static void philox_rounds_c(uint32_t *w0, uint32_t *w1, uint32_t *w2, uint32_t *w3, int n,
                            uint32_t k0, uint32_t k1)
{
    for (int round = 1; round < RNG_PHILOX_ROUNDS; round++) {
        k0 += RNG_PHILOX_W0;
        k1 += RNG_PHILOX_W1;
        for (int i = 0; i < n; i++) {
            const uint64_t q0 = (uint64_t)RNG_PHILOX_M0 * w0[i];
            const uint64_t q1 = (uint64_t)RNG_PHILOX_M1 * w2[i];
            const uint32_t n0 = (uint32_t)(q1 >> 32) ^ w1[i] ^ k0;
            const uint32_t n2 = (uint32_t)(q0 >> 32) ^ w3[i] ^ k1;
            w1[i] = (uint32_t)q1;
            w3[i] = (uint32_t)q0;
            w0[i] = n0;
            w2[i] = n2;
        }
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HPCML_PHILOX_X86 1

/* High 32 bits of the 32 x 32-bit products of each lane: even lanes from
 * one widening multiply, odd lanes from another on the words shifted down. */
__attribute__((target("avx2"))) static inline __m256i mulhi_epu32_256(__m256i a, __m256i m)
{
    const __m256i even = _mm256_srli_epi64(_mm256_mul_epu32(a, m), 32);
    const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    return _mm256_blend_epi32(even, odd, 0xAA);
}

__attribute__((target("avx2"))) static void philox_rounds_avx2(uint32_t *w0, uint32_t *w1,
                                                               uint32_t *w2, uint32_t *w3, int n,
                                                               uint32_t k0, uint32_t k1)
{
    const __m256i m0 = _mm256_set1_epi32((int)RNG_PHILOX_M0);
    const __m256i m1 = _mm256_set1_epi32((int)RNG_PHILOX_M1);
    for (int h = 0; h < n; h += 8) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(w0 + h));
        __m256i b = _mm256_loadu_si256((const __m256i *)(w1 + h));
        __m256i c = _mm256_loadu_si256((const __m256i *)(w2 + h));
        __m256i d = _mm256_loadu_si256((const __m256i *)(w3 + h));
        uint32_t kk0 = k0, kk1 = k1;
        for (int round = 1; round < RNG_PHILOX_ROUNDS; round++) {
            kk0 += RNG_PHILOX_W0;
            kk1 += RNG_PHILOX_W1;
            const __m256i hi0 = mulhi_epu32_256(a, m0), lo0 = _mm256_mullo_epi32(a, m0);
            const __m256i hi1 = mulhi_epu32_256(c, m1), lo1 = _mm256_mullo_epi32(c, m1);
            a = _mm256_xor_si256(_mm256_xor_si256(hi1, b), _mm256_set1_epi32((int)kk0));
            c = _mm256_xor_si256(_mm256_xor_si256(hi0, d), _mm256_set1_epi32((int)kk1));
            b = lo1;
            d = lo0;
        }
        _mm256_storeu_si256((__m256i *)(w0 + h), a);
        _mm256_storeu_si256((__m256i *)(w1 + h), b);
        _mm256_storeu_si256((__m256i *)(w2 + h), c);
        _mm256_storeu_si256((__m256i *)(w3 + h), d);
    }
}

__attribute__((target("avx512f"))) static inline __m512i mulhi_epu32_512(__m512i a, __m512i m)
{
    const __m512i even = _mm512_srli_epi64(_mm512_mul_epu32(a, m), 32);
    const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    return _mm512_mask_blend_epi32((__mmask16)0xAAAA, even, odd);
}

/* One Philox round on lanes (a, b, c, d) of 16 blocks. */
#define PHILOX_ROUND_512(a, b, c, d, kv0, kv1)                                                     \
    do {                                                                                           \
        const __m512i hi0_ = mulhi_epu32_512(a, m0), lo0_ = _mm512_mullo_epi32(a, m0);             \
        const __m512i hi1_ = mulhi_epu32_512(c, m1), lo1_ = _mm512_mullo_epi32(c, m1);             \
        a = _mm512_xor_si512(_mm512_xor_si512(hi1_, b), kv0);                                      \
        c = _mm512_xor_si512(_mm512_xor_si512(hi0_, d), kv1);                                      \
        b = lo1_;                                                                                  \
        d = lo0_;                                                                                  \
    } while (0)

/* Up to four vectors of 16 blocks in flight: the rounds of one vector are a
 * chain of dependent multiplies, so independent vectors fill the pipeline. */
__attribute__((target("avx512f"))) static void philox_rounds_avx512(uint32_t *w0, uint32_t *w1,
                                                                    uint32_t *w2, uint32_t *w3,
                                                                    int n, uint32_t k0, uint32_t k1)
{
    const __m512i m0 = _mm512_set1_epi32((int)RNG_PHILOX_M0);
    const __m512i m1 = _mm512_set1_epi32((int)RNG_PHILOX_M1);
    enum { V = DROPOUT_CHUNK_GROUPS };
    const int nv = n / 16;
    __m512i a[V], b[V], c[V], d[V];
    for (int v = 0; v < nv; v++) {
        a[v] = _mm512_loadu_si512(w0 + 16 * v);
        b[v] = _mm512_loadu_si512(w1 + 16 * v);
        c[v] = _mm512_loadu_si512(w2 + 16 * v);
        d[v] = _mm512_loadu_si512(w3 + 16 * v);
    }
    for (int round = 1; round < RNG_PHILOX_ROUNDS; round++) {
        k0 += RNG_PHILOX_W0;
        k1 += RNG_PHILOX_W1;
        const __m512i kv0 = _mm512_set1_epi32((int)k0), kv1 = _mm512_set1_epi32((int)k1);
        for (int v = 0; v < V; v++)
            if (v < nv) PHILOX_ROUND_512(a[v], b[v], c[v], d[v], kv0, kv1);
    }
    for (int v = 0; v < nv; v++) {
        _mm512_storeu_si512(w0 + 16 * v, a[v]);
        _mm512_storeu_si512(w1 + 16 * v, b[v]);
        _mm512_storeu_si512(w2 + 16 * v, c[v]);
        _mm512_storeu_si512(w3 + 16 * v, d[v]);
    }
}
#undef PHILOX_ROUND_512
#endif

/* The widest the CPU has; HPCML_CPU_ISA = "generic" or "avx2" caps it (the
 * tests check every variant against rng_block on any machine). */
static philox_rounds_fn philox_rounds_pick(void)
{
    const char *cap = getenv("HPCML_CPU_ISA");
    if (cap && strcmp(cap, "generic") == 0) return philox_rounds_c;
#ifdef HPCML_PHILOX_X86
    __builtin_cpu_init();
    const int avx2_only = cap && strcmp(cap, "avx2") == 0;
    if (!avx2_only && __builtin_cpu_supports("avx512f")) return philox_rounds_avx512;
    if (__builtin_cpu_supports("avx2")) return philox_rounds_avx2;
#endif
    return philox_rounds_c;
}

/* always inlined: each SIMD clone of cpu_dropout_forward compiles its loops
 * for its own width */
static inline __attribute__((always_inline)) void
dropout_row(philox_rounds_fn philox_rounds, float *xr, float *mr, int cols, uint64_t seed,
            uint64_t key, uint32_t lane0, uint32_t thr, float scale)
{
    const uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    /* round 1 (key k0, k1) of ctr {key lo, key hi, stream, lane} */
    const uint64_t p0 = (uint64_t)RNG_PHILOX_M0 * (uint32_t)key;
    const uint64_t p1 = (uint64_t)RNG_PHILOX_M1 * (uint32_t)RNG_STREAM_DROPOUT;
    const uint32_t r0 = (uint32_t)(p1 >> 32) ^ (uint32_t)(key >> 32) ^ k0;
    const uint32_t r1 = (uint32_t)p1;
    const uint32_t r2 = (uint32_t)(p0 >> 32) ^ k1; /* ^ lane */
    const uint32_t r3 = (uint32_t)p0;
    enum { CHUNK_UNITS = DROPOUT_CHUNK_GROUPS * NN_DROPOUT_GROUP };
    for (int u0 = 0; u0 < cols; u0 += CHUNK_UNITS) {
        const int n = cols - u0 < CHUNK_UNITS ? cols - u0 : CHUNK_UNITS;
        const int groups = (n + NN_DROPOUT_GROUP - 1) / NN_DROPOUT_GROUP;
        const int nb = groups * DROPOUT_BLOCKS;
        const uint32_t b0 = lane0 + (uint32_t)(u0 / NN_DROPOUT_GROUP) * DROPOUT_BLOCKS;
        uint32_t w[4][DROPOUT_CHUNK_BLOCKS];
        for (int i = 0; i < nb; i++) {
            w[0][i] = r0;
            w[1][i] = r1;
            w[2][i] = r2 ^ (b0 + (uint32_t)i);
            w[3][i] = r3;
        }
        philox_rounds(w[0], w[1], w[2], w[3], nb, k0, k1);
        /* the chunk's draws in unit order (< 2^16: signed compares work at
         * every SIMD width), then mask and product, each a plain loop the
         * compiler vectorizes */
        int32_t draw[CHUNK_UNITS];
        for (int g = 0; g < groups; g++)
            for (int k = 0; k < 8; k++)
                for (int i = 0; i < DROPOUT_BLOCKS; i++)
                    draw[g * NN_DROPOUT_GROUP + k * DROPOUT_BLOCKS + i] =
                        (int32_t)((w[k / 2][g * DROPOUT_BLOCKS + i] >> (k % 2 * 16)) & 0xffffu);
        float mbuf[CHUNK_UNITS]; /* the mask when the caller keeps none */
        float *restrict m = mr ? mr + u0 : mbuf, *restrict x = xr + u0;
        for (int j = 0; j < n; j++)
            m[j] = draw[j] >= (int32_t)thr ? scale : 0.0f;
        for (int j = 0; j < n; j++)
            x[j] *= m[j];
    }
}

HPCML_SIMD_CLONES static int cpu_dropout_forward(float *x, float *mask, int rows, int cols, float p,
                                                 int layer, const nn_dropout_rows *keys)
{
    HPCML_CHECK(p >= 0.0f && p < 1.0f, HPCML_EUSAGE, "dropout probability %g not in [0, 1)",
                (double)p);
    HPCML_CHECK(layer >= 0 && layer < NN_DROPOUT_MAX_LAYERS && cols <= NN_DROPOUT_MAX_UNITS,
                HPCML_EUSAGE, "dropout: layer %d or width %d out of range", layer, cols);
    if (p == 0.0f) {
        for (size_t i = 0; mask && i < (size_t)rows * cols; i++)
            mask[i] = 1.0f;
        return HPCML_OK;
    }
    /* nn_dropout_scale's two outcomes and its decision as an integer compare */
    const float scale = 1.0f / (1.0f - p);
    const uint32_t thr = nn_dropout_threshold(p);
    const uint32_t lane0 = nn_dropout_lane(layer, 0);
    const philox_rounds_fn rounds = philox_rounds_pick(); /* once per call: cheap */
    for (int r = 0; r < rows; r++) {
        const uint64_t key = keys->row_keys ? keys->row_keys[r] : keys->row_key_base + (uint64_t)r;
        dropout_row(rounds, x + (size_t)r * cols, mask ? mask + (size_t)r * cols : NULL, cols,
                    keys->seed, key, lane0, thr, scale);
    }
    return HPCML_OK;
}

HPCML_SIMD_CLONES static int cpu_dropout_backward(const float *dy, const float *mask, size_t n,
                                                  float *dx)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = dy[i] * mask[i];
    return HPCML_OK;
}

/* dz = (da * mask) * act'(z): dropout's and the activation's backward in one
 * pass, the same two products in the same order as the two calls. */
HPCML_SIMD_CLONES static int cpu_dropout_act_backward(const float *z, const float *da,
                                                      const float *mask, size_t n,
                                                      nn_activation act, float *dz)
{
    switch (act) {
    case NN_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            dz[i] = (da[i] * mask[i]) * where_positive(z[i], 1.0f);
        break;
    case NN_ACT_GELU:
        for (size_t i = 0; i < n; i++)
            dz[i] = (da[i] * mask[i]) * nn_act_derivative(NN_ACT_GELU, z[i]);
        break;
    default:
        for (size_t i = 0; i < n; i++)
            dz[i] = da[i] * mask[i];
        break;
    }
    return HPCML_OK;
}

/* dz = da * (h > 0 ? scale : 0) */
HPCML_SIMD_CLONES static int cpu_relu_dropout_backward(const float *h, const float *da, size_t n,
                                                       float scale, float *dz)
{
    for (size_t i = 0; i < n; i++)
        dz[i] = da[i] * where_positive(h[i], scale);
    return HPCML_OK;
}

static int cpu_softmax_ce_forward(const float *logits, const int32_t *labels,
                                  const float *class_weights, int rows, int classes, float *prob,
                                  double *loss_sum, double *weight_sum)
{
    double ls = 0.0, ws = 0.0;
    for (int r = 0; r < rows; r++) {
        int y = labels ? labels[r] : -1;
        HPCML_CHECK(!labels || (y >= 0 && y < classes), HPCML_EDATA,
                    "label %d of row %d not in [0, %d)", y, r, classes);
        float l =
            nn_softmax_ce_row(logits + (size_t)r * classes, classes, y, prob + (size_t)r * classes);
        if (labels) {
            double w = class_weights ? (double)class_weights[y] : 1.0;
            ls += w * (double)l;
            ws += w;
        }
    }
    if (loss_sum) *loss_sum = ls;
    if (weight_sum) *weight_sum = ws;
    return HPCML_OK;
}

static int cpu_softmax_ce_backward(const float *prob, const int32_t *labels,
                                   const float *class_weights, int rows, int classes, float scale,
                                   float *dlogits)
{
    for (int r = 0; r < rows; r++) {
        int y = labels[r];
        HPCML_CHECK(y >= 0 && y < classes, HPCML_EDATA, "label %d of row %d not in [0, %d)", y, r,
                    classes);
        float ws = scale * (class_weights ? class_weights[y] : 1.0f);
        const float *pr = prob + (size_t)r * classes;
        float *dr = dlogits + (size_t)r * classes;
        for (int c = 0; c < classes; c++)
            dr[c] = nn_softmax_ce_grad(pr[c], c == y, ws);
    }
    return HPCML_OK;
}

HPCML_SIMD_CLONES static int cpu_sgd_step(float *param, const float *grad, float *momentum_buf,
                                          size_t n, const nn_step_params *sp)
{
    HPCML_CHECK(sp->momentum == 0.0f || momentum_buf != NULL, HPCML_EINTERNAL,
                "sgd_step: momentum without a buffer");
    const float lr = sp->lr, mu = sp->momentum, damp = sp->dampening, wd = sp->weight_decay;
    const int nest = sp->nesterov, first = sp->first_step;
    if (mu == 0.0f) {
        for (size_t i = 0; i < n; i++)
            nn_sgd_update(&param[i], grad[i], NULL, lr, 0.0f, damp, wd, nest, first);
        return HPCML_OK;
    }
    for (size_t i = 0; i < n; i++)
        nn_sgd_update(&param[i], grad[i], &momentum_buf[i], lr, mu, damp, wd, nest, first);
    return HPCML_OK;
}

HPCML_SIMD_CLONES static int cpu_adam_step(float *param, const float *grad, float *m, float *v,
                                           size_t n, const nn_step_params *sp)
{
    const float b1 = sp->beta1, b2 = sp->beta2, ss = sp->step_size, bc2 = sp->bc2_sqrt;
    const float eps = sp->eps, l2 = sp->l2, decay = sp->decay;
    for (size_t i = 0; i < n; i++)
        nn_adam_update(&param[i], grad[i], &m[i], &v[i], b1, b2, ss, bc2, eps, l2, decay);
    return HPCML_OK;
}

int nn_allreduce_single(float *buf, size_t n, void *ctx)
{
    (void)buf;
    (void)n;
    (void)ctx;
    return HPCML_OK;
}

int nn_allreduce_single_f64(double *buf_host, size_t n, void *ctx)
{
    (void)buf_host;
    (void)n;
    (void)ctx;
    return HPCML_OK;
}

const nn_backend nn_backend_cpu = {
    .name = "cpu",
    .device_memory = 0,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .copy_to_device = cpu_copy,
    .copy_to_host = cpu_copy,
    .copy = cpu_copy,
    .zero = cpu_zero,
    .upload_async = cpu_copy,
    .upload_wait = cpu_upload_wait,
    .sgemm = cpu_sgemm,
    .colsum = cpu_colsum,
    .scale = cpu_scale,
    .sumsq = cpu_sumsq,
    .bias_act_forward = cpu_bias_act_forward,
    .act_backward = cpu_act_backward,
    .dropout_forward = cpu_dropout_forward,
    .dropout_backward = cpu_dropout_backward,
    .dropout_act_backward = cpu_dropout_act_backward,
    .relu_dropout_backward = cpu_relu_dropout_backward,
    .mlp_infer = nn_cpu_mlp_infer,
    .softmax_ce_forward = cpu_softmax_ce_forward,
    .softmax_ce_backward = cpu_softmax_ce_backward,
    .sgd_step = cpu_sgd_step,
    .adam_step = cpu_adam_step,
    .allreduce_sum = nn_allreduce_single,
    .allreduce_sum_f64 = nn_allreduce_single_f64,
    .comm_ctx = NULL,
};
