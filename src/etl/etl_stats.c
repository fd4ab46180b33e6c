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

/* ---- many order statistics of one sorted multiset ---------------------------------- */

int etl_multiselect_init(etl_multiselect *m, const uint64_t *sorted_keys, size_t n,
                         const uint64_t *ranks, int n_queries)
{
    memset(m, 0, sizeof *m);
    m->keys = sorted_keys;
    m->n = n;
    m->n_queries = n_queries;
    size_t nq = (size_t)n_queries + 1;
    m->k = malloc(nq * sizeof *m->k);
    m->prefix = calloc(nq, sizeof *m->prefix);
    m->lo = calloc(nq, sizeof *m->lo);
    m->hi = malloc(nq * sizeof *m->hi);
    if (!m->k || !m->prefix || !m->lo || !m->hi) {
        etl_multiselect_free(m);
        return HPCML_FAIL(HPCML_EINTERNAL, "out of memory for %d order statistics", n_queries);
    }
    for (int q = 0; q < n_queries; q++) {
        m->k[q] = ranks[q];
        m->hi[q] = n;
    }
    return HPCML_OK;
}

int etl_multiselect_group_end(const etl_multiselect *m, int q)
{
    int e = q + 1;
    while (e < m->n_queries && m->prefix[e] == m->prefix[q])
        e++;
    return e;
}

/* The first index in [lo, hi) whose key is above v. */
static size_t upper_bound(const uint64_t *keys, size_t lo, size_t hi, uint64_t v)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (keys[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void etl_multiselect_histogram(const etl_multiselect *m, int q, int64_t hist[256])
{
    memset(hist, 0, 256 * sizeof *hist);
    if (m->round >= 8) return;
    int shift = 56 - 8 * m->round;
    uint64_t low = shift ? (1ull << shift) - 1 : 0;
    /* The candidates share the bytes above shift, so the next byte is
     * non-decreasing over the range: one run per byte value. */
    for (size_t i = m->lo[q], hi = m->hi[q]; i < hi;) {
        size_t end = upper_bound(m->keys, i, hi, m->keys[i] | low);
        hist[(m->keys[i] >> shift) & 0xFF] += (int64_t)(end - i);
        i = end;
    }
}

void etl_multiselect_advance(etl_multiselect *m, int q, const int64_t hist[256])
{
    if (m->round >= 8) return;
    int shift = 56 - 8 * m->round;
    uint64_t below = 0;
    int b = 0;
    for (; b < 255; b++) {
        if (m->k[q] < below + (uint64_t)hist[b]) break;
        below += (uint64_t)hist[b];
    }
    m->k[q] -= below;
    m->prefix[q] |= (uint64_t)b << shift;
    uint64_t low = shift ? (1ull << shift) - 1 : 0;
    size_t lo = m->lo[q], hi = m->hi[q];
    size_t first = m->prefix[q] ? upper_bound(m->keys, lo, hi, m->prefix[q] - 1) : lo;
    m->lo[q] = first;
    m->hi[q] = upper_bound(m->keys, first, hi, m->prefix[q] | low);
}

void etl_multiselect_next_round(etl_multiselect *m)
{
    if (m->round < 8) m->round++;
}

void etl_multiselect_free(etl_multiselect *m)
{
    free(m->k);
    free(m->prefix);
    free(m->lo);
    free(m->hi);
    memset(m, 0, sizeof *m);
}

int etl_multiselect_run(MPI_Comm comm, etl_multiselect *m)
{
    int64_t *hist = malloc(((size_t)m->n_queries + 1) * 256 * sizeof *hist);
    HPCML_ALLOC_CHECK(hist, ((size_t)m->n_queries + 1) * 256 * sizeof *hist);
    int rc = HPCML_OK;
    while (m->round < 8 && rc == HPCML_OK) {
        int groups = 0;
        for (int q = 0; q < m->n_queries; q = etl_multiselect_group_end(m, q))
            etl_multiselect_histogram(m, q, hist + (size_t)256 * groups++);
        /* Every rank has the same prefixes, so the same groups. */
        if (MPI_Allreduce(MPI_IN_PLACE, hist, 256 * groups, MPI_INT64_T, MPI_SUM, comm) !=
            MPI_SUCCESS) {
            rc = HPCML_FAIL(HPCML_EINTERNAL, "MPI_Allreduce of selection histograms failed");
            break;
        }
        groups = 0;
        for (int q = 0; q < m->n_queries;) {
            int e = etl_multiselect_group_end(m, q);
            for (int j = q; j < e; j++)
                etl_multiselect_advance(m, j, hist + (size_t)256 * groups);
            groups++;
            q = e;
        }
        etl_multiselect_next_round(m);
    }
    free(hist);
    return rc;
}

void etl_sort_keys(uint64_t *keys, uint64_t *tmp, size_t n)
{
    if (n < 2) return;
    uint64_t *src = keys, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((src[i] >> shift) & 0xFF) + 1]++;
        if (count[((src[0] >> shift) & 0xFF) + 1] == n) continue; /* one byte value: no move */
        for (int b = 0; b < 256; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i] >> shift) & 0xFF]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != keys) memcpy(keys, src, n * sizeof *keys);
}
