/* test_data_source.c — the data-source registry and the rule that picks one
 * (data_source.h): every name resolves to its own table with every
 * operation filled; streaming when asked; replicated only with more than one
 * rank and /train within replicate_max_mb (the boundary included, 0 always
 * shards); unknown names are NULL. */
#include <string.h>

#include "check.h"
#include "train/data_source.h"

static void test_registry(void)
{
    static const char *const names[] = {"memory-sharded", "memory-replicated", "streaming"};
    for (int i = 0; i < 3; i++) {
        const data_source_ops *o = data_source_by_name(names[i]);
        CHECK_MSG(o != NULL, "no source named %s", names[i]);
        if (!o) continue;
        CHECK(strcmp(o->name, names[i]) == 0);
        CHECK(o->open && o->epoch_begin && o->batch && o->peek && o->epoch_end && o->order &&
              o->close);
        for (int j = 0; j < i; j++)
            CHECK(o != data_source_by_name(names[j]));
    }
    CHECK(data_source_by_name("memory") == NULL);
    CHECK(data_source_by_name("") == NULL);
    CHECK(data_source_by_name(NULL) == NULL);
}

static void test_choose(void)
{
    const double mb = 1048576.0;
    CHECK(strcmp(data_source_choose(1, 4, 1.0, 256), "streaming") == 0);
    CHECK(strcmp(data_source_choose(1, 1, 1e12, 0), "streaming") == 0);
    CHECK(strcmp(data_source_choose(0, 2, 256 * mb, 256), "memory-replicated") == 0);
    CHECK(strcmp(data_source_choose(0, 2, 256 * mb + 1, 256), "memory-sharded") == 0);
    CHECK(strcmp(data_source_choose(0, 1, 1.0, 256), "memory-sharded") == 0); /* one rank */
    CHECK(strcmp(data_source_choose(0, 8, 1.0, 0), "memory-sharded") == 0);   /* 0: always */
    /* every choice is a registered source */
    for (int s = 0; s < 2; s++)
        for (int r = 1; r < 4; r++)
            CHECK(data_source_by_name(data_source_choose(s, r, 100 * mb, 64)) != NULL);
}

int main(void)
{
    test_registry();
    test_choose();
    CHECK_DONE();
}
