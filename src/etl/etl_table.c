/* etl_table.c — the extracted rows' column arrays and their allocator. See
 * etl_table.h. */
#include "etl/etl_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/status.h"

const char *const etl_drop_names[ETL_DROP_N] = {
    "kept",           "malformed_csv", "ragged_row",   "bad_value", "bad_label",   "null_label",
    "null_violation", "impute_drop",   "out_of_range", "duplicate", "undersampled"};

int etl_table_init(etl_table *t, const etl_schema *s, int n_files)
{
    memset(t, 0, sizeof *t);
    t->n_cols = s->n_cols;
    t->num = calloc((size_t)s->n_cols, sizeof *t->num);
    t->cat = calloc((size_t)s->n_cols, sizeof *t->cat);
    t->strtab = calloc((size_t)s->n_cols, sizeof *t->strtab);
    t->nulls = calloc((size_t)s->n_cols, sizeof *t->nulls);
    t->bad_values = calloc((size_t)s->n_cols, sizeof *t->bad_values);
    t->file_rows = calloc((size_t)n_files + 1, sizeof *t->file_rows);
    HPCML_CHECK(t->num && t->cat && t->strtab && t->nulls && t->bad_values && t->file_rows,
                HPCML_EINTERNAL, "out of memory for %d columns", s->n_cols);
    for (int c = 0; c < s->n_cols; c++)
        if (s->cols[c].type == ETL_COL_CATEGORY || s->cols[c].keep_text)
            HPCML_TRY(etl_strtab_init(&t->strtab[c]));
    return HPCML_OK;
}

/* Column arrays are large (rows x 8 bytes each): they grow to an estimate
 * of the final row count (bytes of this rank's range / bytes per row so
 * far) rather than by repeated doubling. From 1 MiB up they live on
 * transparent huge pages (2 MiB aligned, the size rounded up to whole huge
 * pages): first touch then costs one fault per 2 MiB instead of one per 4
 * KiB. On the VMs this was measured on a 4 KiB fault costs ~14 us, so a
 * 64 MiB read buffer touched in 4 KiB pages cost 0.23 s; the rounding
 * wastes at most half of an array between 1 and 2 MiB. */
#define HUGE_PAGE_BYTES ((size_t)2 << 20)
#define HUGE_MIN_BYTES  ((size_t)1 << 20)

void *etl_big_realloc(void *ptr, size_t old_bytes, size_t new_bytes)
{
    if (new_bytes < HUGE_MIN_BYTES) return realloc(ptr, new_bytes);
    size_t bytes = (new_bytes + HUGE_PAGE_BYTES - 1) & ~(HUGE_PAGE_BYTES - 1);
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE_BYTES, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    if (ptr && old_bytes) memcpy(p, ptr, old_bytes < new_bytes ? old_bytes : new_bytes);
    free(ptr);
    return p;
}

#define GROW(ptr, cap, elems)                                                                      \
    do {                                                                                           \
        void *np_ = etl_big_realloc((ptr), (size_t)t->cap * (elems) * sizeof *(ptr),               \
                                    (size_t)(cap) * (elems) * sizeof *(ptr));                      \
        HPCML_ALLOC_CHECK(np_, (size_t)(cap) * (elems) * sizeof *(ptr));                           \
        (ptr) = np_;                                                                               \
    } while (0)

int etl_table_grow(etl_table *t, const etl_schema *s, int64_t bytes_done, int64_t bytes_total,
                   int64_t limit)
{
    int64_t cap = t->cap ? t->cap * 2 : 65536;
    /* First allocation: a guess from the range at 256 bytes a row (the demo
     * set has ~280), so a large range starts on huge pages and rarely copies;
     * a short-row file grows by the estimate below. */
    if (t->cap == 0 && bytes_total / 256 > cap) cap = bytes_total / 256;
    if (t->n > 0 && bytes_done > 0 && bytes_total > bytes_done) {
        int64_t estimate =
            (int64_t)((double)t->n * (double)bytes_total / (double)bytes_done * 1.05) + 4096;
        if (estimate > cap) cap = estimate;
    }
    if (limit > 0 && cap > limit) cap = limit > t->n ? limit : t->n + 1;
    for (int c = 0; c < s->n_cols; c++) {
        etl_col_type ty = s->cols[c].type;
        if (ty == ETL_COL_FLOAT || ty == ETL_COL_INT) GROW(t->num[c], cap, 1);
        if (ty == ETL_COL_CATEGORY || s->cols[c].keep_text) GROW(t->cat[c], cap, 1);
    }
    GROW(t->label, cap, 1);
    if (s->n_key_cols) GROW(t->key_hash, cap, 2);
    if (s->split_key_col >= 0) GROW(t->split_key, cap, 1);
    GROW(t->file, cap, 1);
    GROW(t->line, cap, 1);
    GROW(t->drop, cap, 1);
    t->cap = cap;
    return HPCML_OK;
}

void etl_table_free(etl_table *t)
{
    for (int c = 0; c < t->n_cols; c++) {
        if (t->num) free(t->num[c]);
        if (t->cat) free(t->cat[c]);
        if (t->strtab && t->strtab[c].slots) etl_strtab_free(&t->strtab[c]);
    }
    free(t->num);
    free(t->cat);
    free(t->strtab);
    free(t->label);
    free(t->key_hash);
    free(t->split_key);
    free(t->file);
    free(t->line);
    free(t->drop);
    free(t->split);
    free(t->nulls);
    free(t->bad_values);
    free(t->file_rows);
    memset(t, 0, sizeof *t);
}

void etl_row_where(const etl_inputs *in, const etl_table *t, int64_t i, char *out, size_t n)
{
    snprintf(out, n, "%s:%lld", in->files[t->file[i]].path, (long long)t->line[i]);
}
