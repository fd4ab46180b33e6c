/* test_sampler.c — the distributed sampler's index math: the epoch order is a
 * bijection, changes with the epoch and seed, rank slices tile every batch
 * for any rank count, padding and drop_last give equal step counts, and
 * shard ownership matches the shard ranges. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/status.h"
#include "train/sampler.h"

static void test_bijection(void)
{
    const uint64_t sizes[] = {1, 2, 3, 5, 7, 8, 9, 16, 17, 100, 1000, 4097, 65536, 100003, 199365};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        const uint64_t n = sizes[k];
        unsigned char *seen = calloc(n, 1);
        sampler_perm p;
        sampler_perm_init(&p, 42, 3, n);
        int ok = 1;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t j = sampler_perm_apply(&p, i);
            if (j >= n || seen[j])
                ok = 0;
            else
                seen[j] = 1;
        }
        CHECK_MSG(ok, "perm of %llu rows is not a bijection", (unsigned long long)n);
        /* the bulk form gives the same values, for counts around its 8 lanes */
        uint64_t *many = malloc(n * sizeof *many);
        for (uint64_t i = 0; i < n; i++)
            many[i] = (i * 7919) % n;
        sampler_perm_apply_many(&p, many, (size_t)n);
        int same = 1;
        for (uint64_t i = 0; i < n; i++)
            same &= many[i] == sampler_perm_apply(&p, (i * 7919) % n);
        CHECK_MSG(same, "sampler_perm_apply_many differs for %llu rows", (unsigned long long)n);
        free(many);
        free(seen);
    }
}

static void test_changes_with_epoch_and_seed(void)
{
    const uint64_t n = 1000;
    int same_epoch = 0, same_seed = 0, fixed = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t a = sampler_permute(42, 0, n, i);
        same_epoch += a == sampler_permute(42, 1, n, i);
        same_seed += a == sampler_permute(43, 0, n, i);
        fixed += a == i;
        CHECK(a == sampler_permute(42, 0, n, i)); /* pure */
    }
    /* A random permutation agrees with another in ~1 place on average. */
    CHECK_MSG(same_epoch < 10, "epochs 0 and 1 agree at %d of 1000", same_epoch);
    CHECK_MSG(same_seed < 10, "seeds 42 and 43 agree at %d of 1000", same_seed);
    CHECK_MSG(fixed < 10, "%d fixed points of 1000", fixed);

    /* Uniformity: where row 0 lands over many epochs, in 10 bins. */
    int bins[10] = {0};
    const int epochs = 20000;
    for (int e = 0; e < epochs; e++) {
        sampler_perm p;
        sampler_perm_init(&p, 7, (uint64_t)e, n);
        bins[sampler_perm_apply(&p, 0) * 10 / n]++;
    }
    double chi2 = 0;
    for (int b = 0; b < 10; b++)
        chi2 += (bins[b] - 2000.0) * (bins[b] - 2000.0) / 2000.0;
    CHECK_MSG(chi2 < 30.0, "chi2 %.1f over 9 degrees of freedom", chi2); /* p ~ 0.0004 */
}

static void test_steps_and_padding(void)
{
    sampler s;
    CHECK(sampler_init(&s, 1000, 300, 2, 0, 1) == HPCML_OK);
    CHECK_EQ_INT(s.steps, 4);
    CHECK_EQ_INT(sampler_positions(&s), 1200);
    /* Every row appears once in the first 1000 positions; the 200 padded
     * positions repeat the first 200 of the order. */
    sampler_perm p;
    sampler_epoch_perm(&s, 5, &p);
    unsigned char seen[1000] = {0};
    int ok = 1;
    for (uint64_t q = 0; q < 1000; q++) {
        uint64_t r = sampler_row_at(&s, &p, q);
        if (seen[r]) ok = 0;
        seen[r] = 1;
    }
    CHECK(ok);
    for (uint64_t q = 1000; q < 1200; q++)
        CHECK(sampler_row_at(&s, &p, q) == sampler_row_at(&s, &p, q - 1000));
    uint64_t bulk[1200];
    for (uint64_t q = 0; q < 1200; q++)
        bulk[q] = q;
    sampler_rows_at(&s, &p, bulk, 1200); /* the bulk form, padding included */
    for (uint64_t q = 0; q < 1200; q++)
        CHECK(bulk[q] == sampler_row_at(&s, &p, q));

    CHECK(sampler_init(&s, 1000, 300, 2, 1, 1) == HPCML_OK);
    CHECK_EQ_INT(s.steps, 3);
    CHECK(sampler_init(&s, 1000, 1000, 3, 1, 1) == HPCML_OK);
    CHECK_EQ_INT(s.steps, 1);

    hpcml_error_clear();
    CHECK(sampler_init(&s, 1000, 2, 4, 0, 1) == HPCML_EUSAGE); /* batch < ranks */
    hpcml_error_clear();
    CHECK(sampler_init(&s, 10, 20, 1, 1, 1) == HPCML_EUSAGE); /* drop_last, batch > rows */
    hpcml_error_clear();
    CHECK(sampler_init(&s, 0, 20, 1, 0, 1) == HPCML_EDATA);
    hpcml_error_clear();
}

static void test_slices_tile_batches(void)
{
    for (int ranks = 1; ranks <= 7; ranks++) {
        for (uint64_t batch = (uint64_t)ranks; batch < 40; batch += 3) {
            sampler s;
            CHECK(sampler_init(&s, 1000, batch, ranks, 0, 1) == HPCML_OK);
            uint64_t next = 0, biggest = 0;
            int ok = 1;
            for (int r = 0; r < ranks; r++) {
                uint64_t lo, hi;
                sampler_rank_slice(&s, r, &lo, &hi);
                if (lo != next || hi <= lo) ok = 0;
                if (hi - lo > biggest) biggest = hi - lo;
                next = hi;
            }
            CHECK_MSG(ok && next == batch, "ranks %d batch %llu", ranks, (unsigned long long)batch);
            CHECK(biggest == sampler_max_slice(&s));
        }
    }
}

static void test_rank_count_independence(void)
{
    /* The concatenation of the rank slices of batch t is the same sequence of
     * rows for 1, 2 and 3 ranks. */
    sampler s1, s3;
    CHECK(sampler_init(&s1, 777, 64, 1, 0, 9) == HPCML_OK);
    CHECK(sampler_init(&s3, 777, 64, 3, 0, 9) == HPCML_OK);
    CHECK_EQ_INT(s1.steps, s3.steps);
    sampler_perm p1, p3;
    sampler_epoch_perm(&s1, 2, &p1);
    sampler_epoch_perm(&s3, 2, &p3);
    int ok = 1;
    for (uint64_t t = 0; t < s1.steps; t++) {
        uint64_t k = 0;
        for (int r = 0; r < 3; r++) {
            uint64_t lo, hi;
            sampler_rank_slice(&s3, r, &lo, &hi);
            for (uint64_t q = lo; q < hi; q++, k++)
                if (sampler_row_at(&s3, &p3, t * 64 + q) != sampler_row_at(&s1, &p1, t * 64 + k))
                    ok = 0;
        }
    }
    CHECK(ok);
}

static void test_shards(void)
{
    const uint64_t sizes[] = {1, 2, 5, 10, 97, 1000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        for (int parts = 1; parts <= 9; parts++) {
            const uint64_t n = sizes[k];
            int ok = 1;
            uint64_t next = 0;
            for (int part = 0; part < parts; part++) {
                uint64_t lo, hi;
                sampler_shard_range(n, parts, part, &lo, &hi);
                if (lo != next || hi - lo > n / (uint64_t)parts + 1) ok = 0;
                for (uint64_t row = lo; row < hi; row++)
                    if (sampler_shard_owner(n, parts, row) != part) ok = 0;
                next = hi;
            }
            CHECK_MSG(ok && next == n, "n %llu parts %d", (unsigned long long)n, parts);
        }
    }
    /* Large values do not overflow. */
    uint64_t lo, hi;
    sampler_shard_range(UINT64_C(1) << 62, 1000, 999, &lo, &hi);
    CHECK(hi == UINT64_C(1) << 62);
    CHECK_EQ_INT(sampler_shard_owner(UINT64_C(1) << 62, 1000, (UINT64_C(1) << 62) - 1), 999);
}

int main(void)
{
    test_bijection();
    test_changes_with_epoch_and_seed();
    test_steps_and_padding();
    test_slices_tile_batches();
    test_rank_count_independence();
    test_shards();
    CHECK_DONE();
}
