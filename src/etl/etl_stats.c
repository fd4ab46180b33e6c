/* etl_stats.c — exact sums and distributed order statistics. See etl_stats.h. */
#include "etl/etl_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hpcml_mpi.h"
#include "core/status.h"

#define LIMB_BITS 32
#define LIMB_MASK 0xFFFFFFFFll

void etl_xsum_init(etl_xsum *s)
{
    memset(s, 0, sizeof *s);
}

void etl_xsum_add_times(etl_xsum *s, double x, int64_t count)
{
    /* Multiply the three limb pieces by at most 2^30 at a time, so each
     * product stays below 2^62, and normalize after each batch. */
    etl_xsum_normalize(s);
    while (count > 0) {
        int64_t k = count < (1 << 30) ? count : (1 << 30);
        etl_xsum one;
        etl_xsum_init(&one);
        etl_xsum_add(&one, x);
        for (int i = 0; i < ETL_XSUM_LIMBS; i++)
            s->limb[i] += one.limb[i] * k;
        etl_xsum_normalize(s);
        count -= k;
    }
}

void etl_xsum_normalize(etl_xsum *s)
{
    for (int i = 0; i < ETL_XSUM_LIMBS - 1; i++) {
        int64_t carry = s->limb[i] >> LIMB_BITS; /* floor division (arithmetic shift) */
        s->limb[i] &= LIMB_MASK;
        s->limb[i + 1] += carry;
    }
    s->pending = 0;
}

void etl_xsum_merge(etl_xsum *into, const etl_xsum *from)
{
    etl_xsum f = *from;
    etl_xsum_normalize(&f);
    etl_xsum_normalize(into);
    for (int i = 0; i < ETL_XSUM_LIMBS; i++)
        into->limb[i] += f.limb[i];
    etl_xsum_normalize(into);
}

double etl_xsum_value(const etl_xsum *in)
{
    etl_xsum s = *in;
    etl_xsum_normalize(&s);
    int neg = s.limb[ETL_XSUM_LIMBS - 1] < 0;
    if (neg) {
        for (int i = 0; i < ETL_XSUM_LIMBS; i++)
            s.limb[i] = -s.limb[i];
        etl_xsum_normalize(&s);
    }
    int h = ETL_XSUM_LIMBS - 1;
    while (h >= 0 && s.limb[h] == 0)
        h--;
    if (h < 0) return 0.0;
    int lo = h >= 2 ? h - 2 : 0;
    unsigned __int128 top = 0;
    for (int i = h; i >= lo; i--)
        top = (top << 32) | (uint64_t)s.limb[i];
    /* With three limbs, top has at least 65 significant bits, so the bits
     * below lo can be folded into bit 0 as a sticky bit without changing the
     * round-to-nearest-even result of the conversion. */
    int sticky = 0;
    for (int i = lo - 1; i >= 0; i--)
        sticky |= s.limb[i] != 0;
    if (sticky) top |= 1;
    double v = ldexp((double)top, LIMB_BITS * lo - 1074);
    return neg ? -v : v;
}

int etl_xsum_allreduce(MPI_Comm comm, etl_xsum *s, int n)
{
    if (n <= 0) return HPCML_OK;
    int64_t *buf = malloc((size_t)n * ETL_XSUM_LIMBS * sizeof *buf);
    HPCML_ALLOC_CHECK(buf, (size_t)n * ETL_XSUM_LIMBS * sizeof *buf);
    for (int j = 0; j < n; j++) {
        etl_xsum_normalize(&s[j]);
        memcpy(buf + (size_t)j * ETL_XSUM_LIMBS, s[j].limb, sizeof s[j].limb);
    }
    int rc = MPI_Allreduce(MPI_IN_PLACE, buf, n * ETL_XSUM_LIMBS, MPI_INT64_T, MPI_SUM, comm);
    for (int j = 0; j < n; j++) {
        memcpy(s[j].limb, buf + (size_t)j * ETL_XSUM_LIMBS, sizeof s[j].limb);
        etl_xsum_normalize(&s[j]);
    }
    free(buf);
    HPCML_CHECK(rc == MPI_SUCCESS, HPCML_EINTERNAL, "MPI_Allreduce of exact sums failed");
    return HPCML_OK;
}

uint64_t etl_double_key(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return (b >> 63) ? ~b : b | (1ull << 63);
}

double etl_key_double(uint64_t key)
{
    uint64_t b = (key >> 63) ? key & ~(1ull << 63) : ~key;
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* ---- radix selection ------------------------------------------------------ */

void etl_select_init(etl_select_query *q, uint64_t *values, size_t n, uint64_t k)
{
    memset(q, 0, sizeof *q);
    q->values = values;
    q->n = n;
    q->k = k;
}

void etl_select_histogram(const etl_select_query *q, int64_t hist[256])
{
    memset(hist, 0, 256 * sizeof *hist);
    if (q->round >= 8) return;
    int shift = 56 - 8 * q->round;
    for (size_t i = 0; i < q->n; i++)
        hist[(q->values[i] >> shift) & 0xFF]++;
}

void etl_select_advance(etl_select_query *q, const int64_t hist[256])
{
    if (q->round >= 8) return;
    int shift = 56 - 8 * q->round;
    uint64_t below = 0;
    int b = 0;
    for (; b < 255; b++) {
        if (q->k < below + (uint64_t)hist[b]) break;
        below += (uint64_t)hist[b];
    }
    q->k -= below;
    q->prefix |= (uint64_t)b << shift;
    size_t w = 0;
    for (size_t i = 0; i < q->n; i++)
        if ((int)((q->values[i] >> shift) & 0xFF) == b) q->values[w++] = q->values[i];
    q->n = w;
    q->round++;
    if (q->round == 8) q->result = q->prefix;
}

void etl_select_free(etl_select_query *q)
{
    free(q->values);
    q->values = NULL;
    q->n = 0;
}

int etl_select_run(MPI_Comm comm, etl_select_query *qs, int n_queries)
{
    if (n_queries <= 0) return HPCML_OK;
    size_t bins = (size_t)n_queries * 256;
    int64_t *hist = malloc(bins * sizeof *hist);
    HPCML_ALLOC_CHECK(hist, bins * sizeof *hist);
    int rc = HPCML_OK;
    for (int round = 0; round < 8; round++) {
        for (int j = 0; j < n_queries; j++)
            etl_select_histogram(&qs[j], hist + (size_t)j * 256);
        if (MPI_Allreduce(MPI_IN_PLACE, hist, (int)bins, MPI_INT64_T, MPI_SUM, comm) !=
            MPI_SUCCESS) {
            rc = HPCML_FAIL(HPCML_EINTERNAL, "MPI_Allreduce of selection histograms failed");
            break;
        }
        for (int j = 0; j < n_queries; j++)
            etl_select_advance(&qs[j], hist + (size_t)j * 256);
    }
    free(hist);
    return rc;
}
