/* infer_cpu.h — the evaluation forward of a whole MLP on the CPU: the CPU
 * backend's mlp_infer (backend.h), written for these layer shapes instead of
 * calling sgemm per layer.
 *
 * What it computes, per row r and per layer (in = the row's input to it):
 *
 *     out[o] = act(fma(in[K-1], W[o][K-1], ... fma(in[1], W[o][1],
 *                  fma(in[0], W[o][0], b[o])) ...))
 *
 * one chain of fused multiply-adds per output, k = 0 .. K-1 in order,
 * starting from the bias; act is the model's activation on hidden layers and
 * none on the last (the logits). So the result of a row depends on that row
 * alone: not on how many rows a call has, where the row sits among them, the
 * rank count, the chunking, nor on the CPU's vector width (the AVX-512, AVX2
 * + FMA and plain C paths give the same bits; plain C uses fmaf). A naive
 * loop over these formulas is the reference (tests/unit/test_infer_cpu.c).
 *
 * How (the cost model, docs/predict.md "Speed"): rows go in tiles of
 * NN_INFER_TILE; a tile is transposed once into feature-major order
 * (in[k][row]) and then carried through every layer while it stays in the
 * core's L1/L2 cache, with vectors running over rows (16 per AVX-512
 * register) and a register block of outputs: per k, two vector loads of the
 * tile and one broadcast weight per output feed 2 x NB fused multiply-adds.
 * The weights are read in place (mlp.h layout, [out][in]): no packing, no
 * transposition of W, no pass over memory for the bias (the chains start
 * from it) or the activation (applied on the registers before the store).
 * The arithmetic is exactly the GEMMs' multiply-adds. */
#ifndef HPCML_NN_INFER_CPU_H
#define HPCML_NN_INFER_CPU_H

#include "nn/backend.h"

#define NN_INFER_TILE 32 /* rows carried through the layers together */

/* Which code path: the best the CPU has (HPCML_CPU_ISA = "generic" or
 * "avx2" caps it, as for dropout), or one named path for the tests. */
typedef enum {
    NN_INFER_ISA_BEST = 0,
    NN_INFER_ISA_GENERIC,
    NN_INFER_ISA_AVX2, /* AVX2 + FMA */
    NN_INFER_ISA_AVX512
} nn_infer_isa;

/* Whether this CPU (and build) can run the path. */
int nn_infer_isa_supported(nn_infer_isa isa);

/* logits[rows][width[n_layers]] of x[rows][width[0]] (host memory), through
 * the given path; HPCML_EUSAGE when the CPU lacks it. */
int nn_cpu_mlp_infer_isa(nn_infer_isa isa, const nn_mlp_view *net, const float *x, int rows,
                         float *logits);

/* The backend op: nn_cpu_mlp_infer_isa(NN_INFER_ISA_BEST, ...). */
int nn_cpu_mlp_infer(const nn_mlp_view *net, const float *x, int rows, float *logits);

#endif
