/* test_etl_split_vocab.c — split hashing, stratified cut counts, resampling,
 * class weights, string tables and the vocabulary order, without MPI. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "etl/etl_split.h"
#include "etl/etl_vocab.h"

static void test_split_hash_values(void)
{
    /* The same formula in Python (tests/scripts/etl_adult_check.py). */
    CHECK(etl_split_hash(7, 0) == 0xb8b4c2977eabce45ull);
    CHECK(etl_split_hash(7, 1) == 0x3d41bf495cd3075full);
    CHECK(etl_split_hash(7, 123456789) == 0x54976f5a8247c29aull);
    CHECK(etl_split_hash(0, 0) == 0xa706dd2f4d197e6full);
}

static void test_unstratified_shares(void)
{
    int64_t n[3] = {0};
    for (uint64_t i = 0; i < 100000; i++)
        n[etl_split_unstratified(etl_split_hash(3, i), 0.7, 0.15)]++;
    CHECK_MSG(labs((long)(n[0] - 70000)) < 700 && labs((long)(n[1] - 15000)) < 500,
              "%lld %lld %lld", (long long)n[0], (long long)n[1], (long long)n[2]);
    CHECK(etl_split_unstratified(0, 0.7, 0.15) == 0);
    CHECK(etl_split_unstratified(UINT64_MAX, 0.7, 0.15) == 2);
    CHECK(etl_split_unstratified(UINT64_MAX, 1.0, 0.0) == 0);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_stratified_exact(void)
{
    int64_t tr, tv;
    etl_split_targets(10, 0.7, 0.15, &tr, &tv);
    CHECK_EQ_INT(tr, 7);
    CHECK_EQ_INT(tv, 9); /* round(8.5) = 9 */
    etl_split_targets(1, 0.7, 0.15, &tr, &tv);
    CHECK_EQ_INT(tr, 1);
    CHECK_EQ_INT(tv, 1);
    etl_split_targets(0, 0.7, 0.15, &tr, &tv);
    CHECK_EQ_INT(tr, 0);
    CHECK_EQ_INT(tv, 0);

    /* A rare class of 493 rows: cut values as the distributed selection
     * finds them (the k-th smallest u), counts must be exact. */
    enum { N = 493 };
    uint64_t u[N], sorted[N];
    for (int i = 0; i < N; i++)
        u[i] = sorted[i] = etl_split_hash(9, (uint64_t)i * 577);
    qsort(sorted, N, sizeof *sorted, cmp_u64);
    etl_split_targets(N, 0.7, 0.15, &tr, &tv);
    int64_t n[3] = {0};
    for (int i = 0; i < N; i++)
        n[etl_split_stratified(u[i], N, tr, sorted[tr], tv, sorted[tv])]++;
    CHECK_EQ_INT(n[0], tr);
    CHECK_EQ_INT(n[1], tv - tr);
    CHECK_EQ_INT(n[2], N - tv);
}

static void test_resample_and_weights(void)
{
    int64_t counts[2] = {9900, 100};
    etl_resample_plan u = etl_resample_plan_make(ETL_RESAMPLE_UNDER, 1.0, counts);
    CHECK_EQ_INT(u.minority, 1);
    int64_t kept = 0;
    for (uint64_t i = 0; i < 9900; i++)
        kept += etl_resample_copies(&u, 5, i, 0);
    CHECK_MSG(kept > 60 && kept < 140, "kept %lld majority rows", (long long)kept);
    CHECK_EQ_INT(etl_resample_copies(&u, 5, 1, 1), 1);
    etl_resample_plan o = etl_resample_plan_make(ETL_RESAMPLE_OVER, 0.5, counts);
    int64_t copies = 0;
    for (uint64_t i = 0; i < 100; i++)
        copies += etl_resample_copies(&o, 5, i, 1);
    CHECK_MSG(copies > 4700 && copies < 5200, "copies %lld", (long long)copies);
    CHECK_EQ_INT(etl_resample_copies(&o, 5, 1, 0), 1);
    /* same draws for the same row whatever the order of calls */
    CHECK_EQ_INT(etl_resample_copies(&o, 5, 42, 1), etl_resample_copies(&o, 5, 42, 1));

    double w[2];
    etl_class_weights(counts, 2, 1, w);
    CHECK_NEAR(w[0], 10000.0 / (2 * 9900.0), 1e-15);
    CHECK_NEAR(w[1], 50.0, 1e-12);
    etl_class_weights(counts, 2, 0, w);
    CHECK(w[0] == 1.0 && w[1] == 1.0);
    int64_t empty[2] = {5, 0};
    etl_class_weights(empty, 2, 1, w);
    CHECK(w[1] == 1.0);
}

static void test_strtab(void)
{
    etl_strtab t;
    CHECK(etl_strtab_init(&t) == 0);
    char buf[32];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(buf, sizeof buf, "v%d", i % 1234);
        int32_t id = etl_strtab_intern(&t, buf, (size_t)n);
        CHECK(id == i % 1234 || i >= 1234);
        if (i >= 1234) CHECK_EQ_INT(id, i % 1234);
    }
    CHECK_EQ_INT(t.n, 1234);
    size_t len;
    CHECK_EQ_STR(etl_strtab_str(&t, 77, &len), "v77");
    CHECK_EQ_INT(etl_strtab_find(&t, "v1233", 5), 1233);
    CHECK_EQ_INT(etl_strtab_find(&t, "v1234", 5), -1);
    CHECK_EQ_INT(etl_strtab_intern(&t, "", 0), 1234); /* the empty string is a value */
    etl_strtab_free(&t);
}

static void test_vocab_order(void)
{
    etl_vocab_entry e[] = {{"b", 1, 5}, {"a", 1, 5},        {"zz", 2, 9}, {"ab", 2, 5},
                           {"c", 1, 1}, {"\xc3\xa9", 2, 5}, {"B", 1, 5}};
    int32_t n = etl_vocab_top(e, 7, 4);
    CHECK_EQ_INT(n, 4);
    /* count descending, then bytes ascending ("B" < "a" < "ab" < "b" < "é") */
    const char *want[] = {"zz", "B", "a", "ab", "b", "\xc3\xa9", "c"};
    for (int i = 0; i < 7; i++)
        CHECK_EQ_STR(e[i].bytes, want[i]);
    CHECK_EQ_INT(etl_vocab_top(e, 7, 100), 7);
}

int main(void)
{
    test_split_hash_values();
    test_unstratified_shares();
    test_stratified_exact();
    test_resample_and_weights();
    test_strtab();
    test_vocab_order();
    CHECK_DONE();
}
