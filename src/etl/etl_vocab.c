/* etl_vocab.c — string tables and the distributed vocabulary merge. See etl_vocab.h. */
#include "etl/etl_vocab.h"

#include <stdlib.h>
#include <string.h>

#include "core/hpcml_mpi.h"
#include "core/rng.h"
#include "core/status.h"

static uint64_t etl_strtab_hash(const char *s, size_t n)
{
    return rng_hash_bytes(s, n, 0x5eed);
}

int etl_strtab_init(etl_strtab *t)
{
    memset(t, 0, sizeof *t);
    t->n_slots = 64;
    t->slots = malloc(t->n_slots * sizeof *t->slots);
    HPCML_ALLOC_CHECK(t->slots, t->n_slots * sizeof *t->slots);
    memset(t->slots, 0xFF, t->n_slots * sizeof *t->slots);
    return HPCML_OK;
}

void etl_strtab_free(etl_strtab *t)
{
    free(t->arena);
    free(t->off);
    free(t->len);
    free(t->hash);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static int32_t probe(const etl_strtab *t, const char *s, size_t n, uint64_t h, size_t *slot)
{
    size_t mask = t->n_slots - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        int32_t id = t->slots[i];
        if (id < 0) {
            *slot = i;
            return -1;
        }
        if (t->hash[id] == h && t->len[id] == n && memcmp(t->arena + t->off[id], s, n) == 0) {
            *slot = i;
            return id;
        }
    }
}

int32_t etl_strtab_find(const etl_strtab *t, const char *s, size_t n)
{
    if (!t->slots) return -1;
    size_t slot;
    return probe(t, s, n, etl_strtab_hash(s, n), &slot);
}

static int grow_slots(etl_strtab *t)
{
    size_t ns = t->n_slots * 2;
    int32_t *slots = malloc(ns * sizeof *slots);
    if (!slots) return -1;
    memset(slots, 0xFF, ns * sizeof *slots);
    for (int32_t id = 0; id < t->n; id++) {
        size_t i = (size_t)t->hash[id] & (ns - 1);
        while (slots[i] >= 0)
            i = (i + 1) & (ns - 1);
        slots[i] = id;
    }
    free(t->slots);
    t->slots = slots;
    t->n_slots = ns;
    return 0;
}

int32_t etl_strtab_intern(etl_strtab *t, const char *s, size_t n)
{
    uint64_t h = etl_strtab_hash(s, n);
    size_t slot;
    int32_t id = probe(t, s, n, h, &slot);
    if (id >= 0) return id;
    if (n > UINT32_MAX || t->n == INT32_MAX) return -1;
    if (t->n == t->cap) {
        int32_t nc = t->cap ? t->cap * 2 : 64;
        size_t *off = realloc(t->off, (size_t)nc * sizeof *off);
        if (off) t->off = off;
        uint32_t *len = realloc(t->len, (size_t)nc * sizeof *len);
        if (len) t->len = len;
        uint64_t *hash = realloc(t->hash, (size_t)nc * sizeof *hash);
        if (hash) t->hash = hash;
        if (!off || !len || !hash) return -1;
        t->cap = nc;
    }
    if (t->arena_len + n + 1 > t->arena_cap) {
        size_t nc = t->arena_cap ? t->arena_cap * 2 : 4096;
        while (nc < t->arena_len + n + 1)
            nc *= 2;
        char *a = realloc(t->arena, nc);
        if (!a) return -1;
        t->arena = a;
        t->arena_cap = nc;
    }
    id = t->n++;
    t->off[id] = t->arena_len;
    t->len[id] = (uint32_t)n;
    t->hash[id] = h;
    if (n) memcpy(t->arena + t->arena_len, s, n);
    t->arena[t->arena_len + n] = '\0'; /* handy for messages and HDF5 strings */
    t->arena_len += n + 1;
    t->slots[slot] = id;
    if ((size_t)t->n * 2 > t->n_slots && grow_slots(t) != 0) return -1;
    return id;
}

/* qsort comparator of the vocabulary order. */
static int etl_vocab_entry_compare(const void *pa, const void *pb)
{
    const etl_vocab_entry *a = pa, *b = pb;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->bytes, b->bytes, n) : 0;
    if (c) return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

int32_t etl_vocab_top(etl_vocab_entry *entries, int32_t n, int64_t max_entries)
{
    if (n > 1) qsort(entries, (size_t)n, sizeof *entries, etl_vocab_entry_compare);
    return n < max_entries ? n : (int32_t)max_entries;
}

/* ---- serialization: u32 len, i64 count, bytes ------------------------------ */

#define REC_HEADER (sizeof(uint32_t) + sizeof(int64_t))

static char *put_entry(char *p, const char *s, uint32_t len, int64_t count)
{
    memcpy(p, &len, sizeof len);
    memcpy(p + sizeof len, &count, sizeof count);
    if (len) memcpy(p + REC_HEADER, s, len);
    return p + REC_HEADER + len;
}

static const char *get_entry(const char *p, const char **s, uint32_t *len, int64_t *count)
{
    memcpy(len, p, sizeof *len);
    memcpy(count, p + sizeof *len, sizeof *count);
    *s = p + REC_HEADER;
    return p + REC_HEADER + *len;
}

/* This phase is collective from the first to the last line: a local
 * failure (only out of memory is possible) aborts the job. */
int etl_vocab_build(MPI_Comm comm, const etl_strtab *local, const int64_t *local_counts,
                    int64_t max_entries, etl_vocab *out)
{
    int P = hpcml_mpi_size(comm);
    memset(out, 0, sizeof *out);

    /* 1. strings to their owners */
    int *send_counts = calloc((size_t)P, sizeof(int)),
        *recv_counts = calloc((size_t)P, sizeof(int));
    int *sdispl = calloc((size_t)P + 1, sizeof(int)), *rdispl = calloc((size_t)P + 1, sizeof(int));
    HPCML_ALLOC_ABORT(comm, send_counts && recv_counts && sdispl && rdispl, "merging a vocabulary");
    size_t total = 0;
    for (int32_t id = 0; id < local->n; id++) {
        if (local_counts[id] <= 0) continue;
        int owner = (int)(local->hash[id] % (uint64_t)P);
        size_t sz = REC_HEADER + local->len[id];
        if ((size_t)send_counts[owner] + sz > (size_t)INT32_MAX) {
            HPCML_FAIL(HPCML_EINTERNAL, "vocabulary exchange above 2 GiB per rank pair");
            hpcml_mpi_abort(comm, HPCML_EINTERNAL);
        }
        send_counts[owner] += (int)sz;
        total += sz;
    }
    for (int r = 0; r < P; r++)
        sdispl[r + 1] = sdispl[r] + send_counts[r];
    char *sendbuf = malloc(total ? total : 1);
    HPCML_ALLOC_ABORT(comm, sendbuf, "merging a vocabulary");
    int *fill = calloc((size_t)P, sizeof(int));
    HPCML_ALLOC_ABORT(comm, fill, "merging a vocabulary");
    for (int32_t id = 0; id < local->n; id++) {
        if (local_counts[id] <= 0) continue;
        int owner = (int)(local->hash[id] % (uint64_t)P);
        size_t len;
        const char *s = etl_strtab_str(local, id, &len);
        put_entry(sendbuf + sdispl[owner] + fill[owner], s, (uint32_t)len, local_counts[id]);
        fill[owner] += (int)(REC_HEADER + len);
    }
    free(fill);
    if (MPI_Alltoall(send_counts, 1, MPI_INT, recv_counts, 1, MPI_INT, comm) != MPI_SUCCESS)
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    size_t rtotal = 0;
    for (int r = 0; r < P; r++) {
        rdispl[r] = (int)rtotal;
        rtotal += (size_t)recv_counts[r];
        if (rtotal > (size_t)INT32_MAX) {
            HPCML_FAIL(HPCML_EINTERNAL, "vocabulary exchange above 2 GiB on one rank");
            hpcml_mpi_abort(comm, HPCML_EINTERNAL);
        }
    }
    char *recvbuf = malloc(rtotal ? rtotal : 1);
    HPCML_ALLOC_ABORT(comm, recvbuf, "merging a vocabulary");
    if (MPI_Alltoallv(sendbuf, send_counts, sdispl, MPI_CHAR, recvbuf, recv_counts, rdispl,
                      MPI_CHAR, comm) != MPI_SUCCESS)
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    free(sendbuf);

    /* 2. the owner's sums and its best entries */
    etl_strtab owned;
    HPCML_ALLOC_ABORT(comm, etl_strtab_init(&owned) == HPCML_OK, "merging a vocabulary");
    int64_t *owned_counts = NULL;
    size_t owned_cap = 0;
    for (const char *p = recvbuf; p < recvbuf + rtotal;) {
        const char *s;
        uint32_t len;
        int64_t count;
        p = get_entry(p, &s, &len, &count);
        int32_t id = etl_strtab_intern(&owned, s, len);
        HPCML_ALLOC_ABORT(comm, id >= 0, "merging a vocabulary");
        if ((size_t)id >= owned_cap) {
            size_t nc = owned_cap ? owned_cap * 2 : 256;
            int64_t *c = realloc(owned_counts, nc * sizeof *c);
            HPCML_ALLOC_ABORT(comm, c, "merging a vocabulary");
            memset(c + owned_cap, 0, (nc - owned_cap) * sizeof *c);
            owned_counts = c;
            owned_cap = nc;
        }
        owned_counts[id] += count;
    }
    free(recvbuf);
    etl_vocab_entry *mine = malloc(((size_t)owned.n + 1) * sizeof *mine);
    HPCML_ALLOC_ABORT(comm, mine, "merging a vocabulary");
    for (int32_t id = 0; id < owned.n; id++) {
        size_t len;
        mine[id].bytes = etl_strtab_str(&owned, id, &len);
        mine[id].len = (uint32_t)len;
        mine[id].count = owned_counts[id];
    }
    int32_t keep = etl_vocab_top(mine, owned.n, max_entries);

    /* 3. everybody merges the owners' short lists */
    size_t my_bytes = 0;
    for (int32_t i = 0; i < keep; i++)
        my_bytes += REC_HEADER + mine[i].len;
    if (my_bytes > (size_t)INT32_MAX) {
        HPCML_FAIL(HPCML_EINTERNAL, "vocabulary above 2 GiB");
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    }
    char *mybuf = malloc(my_bytes ? my_bytes : 1);
    HPCML_ALLOC_ABORT(comm, mybuf, "merging a vocabulary");
    char *w = mybuf;
    for (int32_t i = 0; i < keep; i++)
        w = put_entry(w, mine[i].bytes, mine[i].len, mine[i].count);
    free(mine);
    etl_strtab_free(&owned);
    free(owned_counts);
    int my_n = (int)my_bytes;
    if (MPI_Allgather(&my_n, 1, MPI_INT, recv_counts, 1, MPI_INT, comm) != MPI_SUCCESS)
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    rtotal = 0;
    for (int r = 0; r < P; r++) {
        rdispl[r] = (int)rtotal;
        rtotal += (size_t)recv_counts[r];
        if (rtotal > (size_t)INT32_MAX) {
            HPCML_FAIL(HPCML_EINTERNAL, "vocabulary lists above 2 GiB");
            hpcml_mpi_abort(comm, HPCML_EINTERNAL);
        }
    }
    char *all = malloc(rtotal ? rtotal : 1);
    HPCML_ALLOC_ABORT(comm, all, "merging a vocabulary");
    if (MPI_Allgatherv(mybuf, my_n, MPI_CHAR, all, recv_counts, rdispl, MPI_CHAR, comm) !=
        MPI_SUCCESS)
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    free(mybuf);
    free(send_counts);
    free(recv_counts);
    free(sdispl);
    free(rdispl);

    /* The vocabulary keeps its own copy of the strings in its lookup table. */
    int32_t n_all = 0, cap_all = 256;
    etl_vocab_entry *ents = malloc((size_t)cap_all * sizeof *ents);
    HPCML_ALLOC_ABORT(comm, ents, "merging a vocabulary");
    for (const char *p = all; p < all + rtotal;) {
        const char *s;
        uint32_t len;
        int64_t count;
        p = get_entry(p, &s, &len, &count);
        if (n_all == cap_all) {
            cap_all *= 2;
            ents = realloc(ents, (size_t)cap_all * sizeof *ents);
            HPCML_ALLOC_ABORT(comm, ents, "merging a vocabulary");
        }
        ents[n_all].bytes = s;
        ents[n_all].len = len;
        ents[n_all].count = count;
        n_all++;
    }
    int32_t n = etl_vocab_top(ents, n_all, max_entries);
    HPCML_ALLOC_ABORT(comm, etl_vocab_from_entries(ents, n, out) == HPCML_OK,
                      "merging a vocabulary");
    free(ents);
    free(all);
    return HPCML_OK;
}

int etl_vocab_from_entries(const etl_vocab_entry *ents, int32_t n, etl_vocab *out)
{
    memset(out, 0, sizeof *out);
    HPCML_CHECK(etl_strtab_init(&out->lookup) == HPCML_OK, HPCML_EINTERNAL, "out of memory");
    out->entries = malloc(((size_t)n + 1) * sizeof *out->entries);
    int rc = out->entries ? HPCML_OK : HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    for (int32_t i = 0; i < n && rc == HPCML_OK; i++) {
        int32_t id = etl_strtab_intern(&out->lookup, ents[i].bytes, ents[i].len);
        if (id < 0)
            rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
        else if (id != i)
            rc = HPCML_FAIL(HPCML_EDATA, "vocabulary entry %d ('%.*s') repeats entry %d", i + 1,
                            (int)ents[i].len, ents[i].bytes, id + 1);
    }
    for (int32_t i = 0; i < n && rc == HPCML_OK; i++) {
        size_t len;
        out->entries[i].bytes = etl_strtab_str(&out->lookup, i, &len);
        out->entries[i].len = (uint32_t)len;
        out->entries[i].count = ents[i].count;
    }
    if (rc != HPCML_OK) {
        etl_vocab_free(out);
        return rc;
    }
    out->n = n;
    return HPCML_OK;
}

int32_t etl_vocab_index(const etl_vocab *v, const char *s, size_t n)
{
    int32_t id = etl_strtab_find(&v->lookup, s, n);
    return id >= 0 ? id + 1 : 0;
}

void etl_vocab_free(etl_vocab *v)
{
    free(v->entries);
    etl_strtab_free(&v->lookup);
    memset(v, 0, sizeof *v);
}
