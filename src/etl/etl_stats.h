/* etl_stats.h — column statistics that give the same bits for any rank count.
 *
 * Floating-point addition is not associative, so a mean reduced with
 * MPI_Allreduce (or merged with Chan's parallel Welford update) changes in
 * the last bits when the rows are cut differently among ranks, and the
 * ETL's output must not depend on the rank count. Sums here are therefore
 * EXACT: etl_xsum is a fixed-point superaccumulator that holds any sum of
 * doubles without rounding (68 signed 64-bit limbs of 32 bits each, covering
 * 2^-1074 .. 2^1100). Adding a double touches three limbs (~3 ns); merging
 * is a limb-wise integer sum, which MPI_Allreduce(MPI_INT64_T, MPI_SUM)
 * does exactly in any order; the final value is the correctly rounded sum.
 * Variance is two-pass: the exact mean first, then the exact sum of
 * (x - mean)^2 (each term is rounded the same way on every rank count).
 *
 * Medians (and the stratified split's per-class thresholds) are exact
 * order statistics found by distributed radix selection: eight rounds, each
 * one MPI_Allreduce of a 256-bin histogram of the next byte of a 64-bit
 * order-preserving key, so the k-th smallest value is found without
 * gathering or sorting the data; local work shrinks every round because the
 * values outside the chosen bucket are dropped.
 *
 * The pure parts (xsum, keys, the select rounds) are unit-tested without MPI
 * (tests/unit/test_etl_stats.c). */
#ifndef HPCML_ETL_STATS_H
#define HPCML_ETL_STATS_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#define ETL_XSUM_LIMBS 68

typedef struct {
    int64_t limb[ETL_XSUM_LIMBS]; /* value = sum limb[i] * 2^(32 i - 1074) */
    uint32_t pending;             /* additions since the last normalization */
} etl_xsum;

void etl_xsum_init(etl_xsum *s);
/* x must be finite. Inline: this is the inner loop of every mean. */
void etl_xsum_normalize(etl_xsum *s);
static inline void etl_xsum_add(etl_xsum *s, double x)
{
    uint64_t bits;
    __builtin_memcpy(&bits, &x, sizeof bits);
    uint64_t e = (bits >> 52) & 0x7FF;
    uint64_t m = (bits & ((1ull << 52) - 1)) | ((uint64_t)(e != 0) << 52);
    e += e == 0; /* subnormals: m * 2^(1 - 1075) */
    /* x = m * 2^(p - 1074), p = e - 1: bits p.. of the fixed-point number */
    unsigned p = (unsigned)e - 1, i = p >> 5, sh = p & 31;
    uint64_t lo = m << sh;
    uint64_t hi = sh ? m >> (64 - sh) : 0;
    int64_t sign = 1 - 2 * (int64_t)(bits >> 63);
    s->limb[i] += sign * (int64_t)(lo & 0xFFFFFFFFu);
    s->limb[i + 1] += sign * (int64_t)(lo >> 32);
    s->limb[i + 2] += sign * (int64_t)hi;
    /* each addition adds < 2^32 to a limb: 2^30 of them fit in an int64 */
    if (++s->pending >= (1u << 30)) etl_xsum_normalize(s);
}
/* Adds x count times, exactly (count >= 0). */
void etl_xsum_add_times(etl_xsum *s, double x, int64_t count);
/* etl_xsum_normalize carry-propagates so every limb but the top one is in [0, 2^32). */
/* into += from (exact). */
void etl_xsum_merge(etl_xsum *into, const etl_xsum *from);
/* The sum, correctly rounded to double (normal range). */
double etl_xsum_value(const etl_xsum *s);
/* Collective: sums n accumulators element-wise over comm, exactly. */
int etl_xsum_allreduce(MPI_Comm comm, etl_xsum *s, int n);

/* 64-bit keys whose unsigned order is the numeric order of the doubles
 * (-0.0 sorts just before +0.0; NaN never appears here). */
uint64_t etl_double_key(double x);
double etl_key_double(uint64_t key);

/* One k-th smallest query over a distributed multiset of 64-bit keys. */
typedef struct {
    uint64_t *values; /* local candidates (owned; compacted every round) */
    size_t n;
    uint64_t k;      /* 0-based rank among the remaining global candidates */
    uint64_t prefix; /* bytes chosen so far, from the top */
    int round;       /* 0..8; 8 = done */
    uint64_t result;
} etl_select_query;

/* Takes ownership of values (malloc'd, may be NULL when n == 0). k must be
 * below the global count of values; the caller checks that. */
void etl_select_init(etl_select_query *q, uint64_t *values, size_t n, uint64_t k);
/* Local histogram of the next byte of the candidates. */
void etl_select_histogram(const etl_select_query *q, int64_t hist[256]);
/* Applies the global histogram: picks the bucket holding the k-th value,
 * updates k and prefix, drops the other candidates. */
void etl_select_advance(etl_select_query *q, const int64_t global_hist[256]);
void etl_select_free(etl_select_query *q);
/* Collective: runs all queries to the end (8 MPI_Allreduce in total). */
int etl_select_run(MPI_Comm comm, etl_select_query *qs, int n_queries);

/* Many order statistics of ONE distributed multiset (the quantile
 * transform's ~2 n_quantiles per column), sharing this rank's keys, sorted
 * once: each query's candidates are a range [lo, hi) of them, and the
 * histogram of the next byte over a range costs one binary search per
 * distinct byte in it. Queries with the same prefix (the same range) share
 * one histogram; since the ranks are ascending, so are the prefixes, and
 * equal ones are neighbours. Memory: the keys plus O(queries). */
typedef struct {
    const uint64_t *keys; /* local, ascending; not owned */
    size_t n;
    int n_queries;
    uint64_t *k;      /* [q] rank among the remaining global candidates */
    uint64_t *prefix; /* [q] bytes chosen so far, from the top */
    size_t *lo, *hi;  /* [q] local candidate range */
    int round;        /* 0..8; 8 = done: prefix[q] is the result */
} etl_multiselect;

/* ranks: ascending 0-based ranks, each below the global count of keys.
 * Returns HPCML_OK or an out-of-memory error. */
int etl_multiselect_init(etl_multiselect *m, const uint64_t *sorted_keys, size_t n,
                         const uint64_t *ranks, int n_queries);
/* Queries [q, end) share query q's prefix: returns end. */
int etl_multiselect_group_end(const etl_multiselect *m, int q);
/* Local histogram of the next byte over query q's candidates. */
void etl_multiselect_histogram(const etl_multiselect *m, int q, int64_t hist[256]);
/* Applies the global histogram of query q's group to query q. */
void etl_multiselect_advance(etl_multiselect *m, int q, const int64_t global_hist[256]);
/* Ends a round (after every query advanced). */
void etl_multiselect_next_round(etl_multiselect *m);
void etl_multiselect_free(etl_multiselect *m);
/* Collective: all rounds (8 MPI_Allreduce of groups x 256 counts). */
int etl_multiselect_run(MPI_Comm comm, etl_multiselect *m);
/* Sorts keys ascending (LSD radix sort; tmp holds n keys). */
void etl_sort_keys(uint64_t *keys, uint64_t *tmp, size_t n);

#endif
