/* infer_cpu.c — the evaluation forward of a whole MLP on the CPU. See
 * infer_cpu.h for what it computes and why it is shaped so.
 *
 * Three paths compute the same bits: every output is one chain of
 * single-rounding fused multiply-adds in the same k order (vfmadd on
 * AVX-512 and AVX2 + FMA, fmaf in plain C), ReLU is max(v, 0) with the
 * result of v > 0 ? v : 0 (NaN and -0 give +0), and GELU goes through
 * nn_act_forward in one scalar loop shared by all paths. Lanes hold rows, so
 * a row's chain never meets another row's values: padding lanes of a short
 * tile hold zeros and are never stored. */
#include "nn/infer_cpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HPCML_INFER_X86 1
#endif

#define TILE NN_INFER_TILE

/* ReLU of one value as the vector paths compute it (and nn_act_forward). */
static inline float relu1(float v)
{
    return v > 0.0f ? v : 0.0f;
}

/* GELU (or any activation but ReLU and none) on n stored values: one scalar
 * loop for every path, so erff is the same call everywhere. */
static void act_scalar(float *v, size_t n, nn_activation act)
{
    for (size_t i = 0; i < n; i++)
        v[i] = nn_act_forward(act, v[i]);
}

/* A layer's function: out[N][TILE] = act(b + W in) of in[K][TILE]. */
typedef void (*layer_fn)(const float *in, int K, const float *W, const float *b, int N,
                         nn_activation act, float *out);

/* ---- plain C ------------------------------------------------------------------------ */

static void layer_generic(const float *in, int K, const float *W, const float *b, int N,
                          nn_activation act, float *out)
{
    for (int o = 0; o < N; o++) {
        const float *w = W + (size_t)o * (size_t)K;
        float acc[TILE];
        for (int i = 0; i < TILE; i++)
            acc[i] = b[o];
        for (int k = 0; k < K; k++) {
            const float wk = w[k], *xk = in + (size_t)k * TILE;
            for (int i = 0; i < TILE; i++)
                acc[i] = fmaf(xk[i], wk, acc[i]);
        }
        float *dst = out + (size_t)o * TILE;
        if (act == NN_ACT_RELU) {
            for (int i = 0; i < TILE; i++)
                dst[i] = relu1(acc[i]);
        } else {
            memcpy(dst, acc, sizeof acc);
            if (act != NN_ACT_NONE) act_scalar(dst, TILE, act);
        }
    }
}

#ifdef HPCML_INFER_X86
/* ---- AVX-512: the tile's 32 rows in two registers, up to 12 outputs ----------------- */

#define NB512 12

/* Outputs o0 .. o0 + nb - 1 for the whole tile: 2 x nb accumulators (24 of
 * the 32 registers at nb = 12), per k two loads of the tile and nb
 * broadcast weights. Always inlined with a constant nb and the loops over j
 * unrolled (at -O2 too), so the accumulators stay in registers. */
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void
block512(const float *in, int K, const float *W, const float *b, int o0, const int nb,
         nn_activation act, float *out)
{
    __m512 a0[NB512], a1[NB512];
    const float *w = W + (size_t)o0 * (size_t)K;
#pragma GCC unroll 12
    for (int j = 0; j < nb; j++)
        a0[j] = a1[j] = _mm512_set1_ps(b[o0 + j]);
    for (int k = 0; k < K; k++) {
        const __m512 x0 = _mm512_load_ps(in + (size_t)k * TILE);
        const __m512 x1 = _mm512_load_ps(in + (size_t)k * TILE + 16);
#pragma GCC unroll 12
        for (int j = 0; j < nb; j++) {
            const __m512 wv = _mm512_set1_ps(w[(size_t)j * (size_t)K + (size_t)k]);
            a0[j] = _mm512_fmadd_ps(x0, wv, a0[j]);
            a1[j] = _mm512_fmadd_ps(x1, wv, a1[j]);
        }
    }
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 12
    for (int j = 0; j < nb; j++) {
        float *dst = out + (size_t)(o0 + j) * TILE;
        if (act == NN_ACT_RELU) { /* max(v, 0) returns 0 for NaN and -0: as relu1 */
            a0[j] = _mm512_max_ps(a0[j], zero);
            a1[j] = _mm512_max_ps(a1[j], zero);
        }
        _mm512_store_ps(dst, a0[j]);
        _mm512_store_ps(dst + 16, a1[j]);
    }
    if (act != NN_ACT_RELU && act != NN_ACT_NONE)
        act_scalar(out + (size_t)o0 * TILE, (size_t)nb * TILE, act);
}

#define CASES_1_TO_5(CALL)                                                                         \
    case 1: CALL(1); break;                                                                        \
    case 2: CALL(2); break;                                                                        \
    case 3: CALL(3); break;                                                                        \
    case 4: CALL(4); break;                                                                        \
    case 5: CALL(5); break
#define CASES_1_TO_11(CALL)                                                                        \
    CASES_1_TO_5(CALL);                                                                            \
    case 6: CALL(6); break;                                                                        \
    case 7: CALL(7); break;                                                                        \
    case 8: CALL(8); break;                                                                        \
    case 9: CALL(9); break;                                                                        \
    case 10: CALL(10); break;                                                                      \
    case 11: CALL(11); break;                                                                      \
    default: break

__attribute__((target("avx512f"))) static void layer_avx512(const float *in, int K, const float *W,
                                                            const float *b, int N,
                                                            nn_activation act, float *out)
{
    int o0 = 0;
    for (; o0 + NB512 <= N; o0 += NB512)
        block512(in, K, W, b, o0, NB512, act, out);
#define CALL512(nb) block512(in, K, W, b, o0, nb, act, out)
    switch (N - o0) { CASES_1_TO_11(CALL512); }
#undef CALL512
}

/* ---- AVX2 + FMA: 16 rows in two registers, up to 6 outputs, the tile in two halves -- */

#define NB256 6

__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline)) void
block256(const float *in, int K, const float *W, const float *b, int o0, const int nb, int half,
         nn_activation act, float *out)
{
    __m256 a0[NB256], a1[NB256];
    const float *w = W + (size_t)o0 * (size_t)K;
    const float *x = in + (size_t)half * 16;
#pragma GCC unroll 6
    for (int j = 0; j < nb; j++)
        a0[j] = a1[j] = _mm256_set1_ps(b[o0 + j]);
    for (int k = 0; k < K; k++) {
        const __m256 x0 = _mm256_load_ps(x + (size_t)k * TILE);
        const __m256 x1 = _mm256_load_ps(x + (size_t)k * TILE + 8);
#pragma GCC unroll 6
        for (int j = 0; j < nb; j++) {
            const __m256 wv = _mm256_broadcast_ss(w + (size_t)j * (size_t)K + (size_t)k);
            a0[j] = _mm256_fmadd_ps(x0, wv, a0[j]);
            a1[j] = _mm256_fmadd_ps(x1, wv, a1[j]);
        }
    }
    const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 6
    for (int j = 0; j < nb; j++) {
        float *dst = out + (size_t)(o0 + j) * TILE + (size_t)half * 16;
        if (act == NN_ACT_RELU) { /* maxps(v, 0): 0 for NaN and -0, as relu1 */
            a0[j] = _mm256_max_ps(a0[j], zero);
            a1[j] = _mm256_max_ps(a1[j], zero);
        }
        _mm256_store_ps(dst, a0[j]);
        _mm256_store_ps(dst + 8, a1[j]);
        if (act != NN_ACT_RELU && act != NN_ACT_NONE) act_scalar(dst, 16, act);
    }
}

__attribute__((target("avx2,fma"))) static void layer_avx2(const float *in, int K, const float *W,
                                                           const float *b, int N,
                                                           nn_activation act, float *out)
{
    for (int half = 0; half < 2; half++) {
        int o0 = 0;
        for (; o0 + NB256 <= N; o0 += NB256)
            block256(in, K, W, b, o0, NB256, half, act, out);
#define CALL256(nb) block256(in, K, W, b, o0, nb, half, act, out)
        switch (N - o0) { CASES_1_TO_5(CALL256); default: break; }
#undef CALL256
    }
}
#endif /* HPCML_INFER_X86 */

/* ---- driver ------------------------------------------------------------------------- */

int nn_infer_isa_supported(nn_infer_isa isa)
{
    switch (isa) {
    case NN_INFER_ISA_BEST:
    case NN_INFER_ISA_GENERIC: return 1;
#ifdef HPCML_INFER_X86
    case NN_INFER_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case NN_INFER_ISA_AVX512: __builtin_cpu_init(); return __builtin_cpu_supports("avx512f");
#endif
    default: return 0;
    }
}

static layer_fn layer_pick(nn_infer_isa isa)
{
    if (isa == NN_INFER_ISA_BEST) {
        const char *cap = getenv("HPCML_CPU_ISA");
        if (cap && strcmp(cap, "generic") == 0) return layer_generic;
        const int avx2_only = cap && strcmp(cap, "avx2") == 0;
        if (!avx2_only && nn_infer_isa_supported(NN_INFER_ISA_AVX512)) isa = NN_INFER_ISA_AVX512;
        else if (nn_infer_isa_supported(NN_INFER_ISA_AVX2)) isa = NN_INFER_ISA_AVX2;
        else isa = NN_INFER_ISA_GENERIC;
    }
    if (!nn_infer_isa_supported(isa)) return NULL;
    switch (isa) {
#ifdef HPCML_INFER_X86
    case NN_INFER_ISA_AVX512: return layer_avx512;
    case NN_INFER_ISA_AVX2: return layer_avx2;
#endif
    default: return layer_generic;
    }
}

int nn_cpu_mlp_infer_isa(nn_infer_isa isa, const nn_mlp_view *net, const float *x, int rows,
                         float *logits)
{
    HPCML_CHECK(net->n_layers >= 1 && rows >= 0, HPCML_EINTERNAL,
                "mlp_infer: %d layers, %d rows", net->n_layers, rows);
    const layer_fn layer = layer_pick(isa);
    HPCML_CHECK(layer != NULL, HPCML_EUSAGE, "mlp_infer: this CPU lacks code path %d", (int)isa);
    if (rows == 0) return HPCML_OK;
    const int L = net->n_layers, F = net->width[0], C = net->width[L];
    int widest = 1;
    for (int l = 0; l <= L; l++)
        if (net->width[l] > widest) widest = net->width[l];
    /* two feature-major tiles, [widest][TILE] each, ping-pong between layers */
    const size_t tile_floats = (size_t)widest * TILE;
    float *buf = aligned_alloc(64, 2 * tile_floats * sizeof *buf);
    HPCML_ALLOC_CHECK(buf, 2 * tile_floats * sizeof *buf);
    for (int r0 = 0; r0 < rows; r0 += TILE) {
        const int nr = rows - r0 < TILE ? rows - r0 : TILE;
        float *a = buf, *z = buf + tile_floats;
        if (nr < TILE) memset(a, 0, (size_t)F * TILE * sizeof *a);
        for (int i = 0; i < nr; i++) {
            const float *xr = x + (size_t)(r0 + i) * (size_t)F;
            for (int k = 0; k < F; k++)
                a[(size_t)k * TILE + (size_t)i] = xr[k];
        }
        for (int l = 0; l < L; l++) {
            layer(a, net->width[l], net->params + net->w_off[l], net->params + net->b_off[l],
                  net->width[l + 1], l < L - 1 ? net->act : NN_ACT_NONE, z);
            float *t = a;
            a = z;
            z = t;
        }
        for (int i = 0; i < nr; i++)
            for (int c = 0; c < C; c++)
                logits[(size_t)(r0 + i) * (size_t)C + (size_t)c] = a[(size_t)c * TILE + (size_t)i];
    }
    free(buf);
    return HPCML_OK;
}

int nn_cpu_mlp_infer(const nn_mlp_view *net, const float *x, int rows, float *logits)
{
    return nn_cpu_mlp_infer_isa(NN_INFER_ISA_BEST, net, x, rows, logits);
}
