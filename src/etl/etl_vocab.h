/* etl_vocab.h — string interning and global vocabularies (StringIndexer).
 *
 * Each rank interns the texts of a categorical column in an etl_strtab
 * (open addressing, one arena) and counts them over its train rows. The
 * global vocabulary is built without gathering every string on one rank:
 *
 *   1. every distinct local string goes, with its count, to the owner rank
 *      hash(string) mod P (one MPI_Alltoallv; volume = the local distinct
 *      strings, not the rows);
 *   2. each owner sums the counts of the strings it owns and keeps its best
 *      max_entries by the vocabulary order;
 *   3. one MPI_Allgatherv of those short lists (at most P * max_entries
 *      entries) lets every rank merge them into the same top list.
 *
 * The vocabulary order is count descending, then the bytes ascending
 * (memcmp, a shorter prefix first: code-point order for UTF-8), so it is a
 * pure function of the global counts. Index 0 is the "unknown" slot; entry
 * i of the list gets index i + 1. The same machinery finds the most
 * frequent value of a numeric column (keys = etl_double_key bytes, big
 * endian, so ties go to the smallest value).
 *
 * Exported for the tests; programs reach them only through this room's other functions:
 * etl_strtab_find, etl_vocab_top. Tests: test_etl_split_vocab.c.
 */
#ifndef HPCML_ETL_VOCAB_H
#define HPCML_ETL_VOCAB_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *arena;
    size_t arena_len, arena_cap;
    size_t *off;
    uint32_t *len;
    uint64_t *hash;
    int32_t n, cap;
    int32_t *slots; /* -1 = empty */
    size_t n_slots; /* power of two */
} etl_strtab;

int etl_strtab_init(etl_strtab *t);
void etl_strtab_free(etl_strtab *t);
/* The id of s (new ids are 0, 1, 2, ... in first-seen order); -1 when out of memory. */
int32_t etl_strtab_intern(etl_strtab *t, const char *s, size_t n);
/* The id of s, or -1. */
int32_t etl_strtab_find(const etl_strtab *t, const char *s, size_t n);
static inline const char *etl_strtab_str(const etl_strtab *t, int32_t id, size_t *len)
{
    *len = t->len[id];
    return t->arena + t->off[id];
}

typedef struct {
    const char *bytes; /* into the vocabulary's arena */
    uint32_t len;
    int64_t count;
} etl_vocab_entry;

typedef struct {
    etl_vocab_entry *entries; /* index i + 1 */
    int32_t n;
    etl_strtab lookup; /* string -> position in entries */
} etl_vocab;

/* Pure: keeps the best max_entries of entries[0..n) (sorted in place). */
int32_t etl_vocab_top(etl_vocab_entry *entries, int32_t n, int64_t max_entries);

/* Collective: the global vocabulary of the strings of local with their
 * local counts (entries with count 0 are left out). */
int etl_vocab_build(MPI_Comm comm, const etl_strtab *local, const int64_t *local_counts,
                    int64_t max_entries, etl_vocab *out);
/* Local: a vocabulary of entries[0..n) in the given (index) order, with its
 * own copy of the strings; HPCML_EDATA when a string repeats. Used by
 * etl_vocab_build and to load a fitted vocabulary back from a file. */
int etl_vocab_from_entries(const etl_vocab_entry *entries, int32_t n, etl_vocab *out);
/* Vocabulary index (1..n) of s, or 0 (unknown). */
int32_t etl_vocab_index(const etl_vocab *v, const char *s, size_t n);
void etl_vocab_free(etl_vocab *v);

#endif
