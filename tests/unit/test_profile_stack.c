/* test_profile_stack.c — nesting, aggregation, event cap and trace text of
 * profile_stages.h, driven by hand-made counter samples (no clocks, no MPI). */
#include <jansson.h>
#include <stdlib.h>

#include "check.h"
#include "core/profile_stages.h"
#include "core/status.h"

static profile_sample at(double wall_s)
{
    /* Every counter grows with time, so deltas are predictable. */
    profile_sample s = {
        .wall_s = wall_s,
        .cpu_user_s = wall_s / 2,
        .cpu_sys_s = wall_s / 4,
        .mpi_s = wall_s / 10,
        .read_bytes = (long long)(wall_s * 1000),
        .write_bytes = (long long)(wall_s * 2000),
        .peak_rss_bytes = (long long)(wall_s * 1e6),
    };
    return s;
}

static void begin(profile_table *t, const char *name, double wall_s)
{
    profile_sample s = at(wall_s);
    CHECK_EQ_INT(profile_table_begin(t, name, &s), HPCML_OK);
}

static void end(profile_table *t, double wall_s)
{
    profile_sample s = at(wall_s);
    CHECK_EQ_INT(profile_table_end(t, &s), HPCML_OK);
}

/* Parse "[" chunk "]" and return the array (NULL when not valid JSON). */
static json_t *parse_chunk(const char *chunk)
{
    size_t n = strlen(chunk);
    char *text = malloc(n + 3);
    text[0] = '[';
    memcpy(text + 1, chunk, n);
    text[n + 1] = ']';
    text[n + 2] = '\0';
    json_error_t err;
    json_t *arr = json_loads(text, 0, &err);
    if (!arr) fprintf(stderr, "invalid trace JSON: %s at %d\n%s\n", err.text, err.position, text);
    free(text);
    return arr;
}

static int count_phase(json_t *arr, const char *ph)
{
    int n = 0;
    size_t i;
    json_t *ev;
    json_array_foreach(arr, i, ev)
    {
        n += strcmp(json_string_value(json_object_get(ev, "ph")), ph) == 0;
    }
    return n;
}

static void test_nesting_and_aggregation(void)
{
    profile_table t;
    profile_table_init(&t, 100);
    begin(&t, "train", 0.0);
    for (int e = 0; e < 3; e++) {
        begin(&t, "epoch", 1.0 + e);
        begin(&t, "step", 1.0 + e);
        end(&t, 1.25 + e);
        begin(&t, "step", 1.5 + e);
        end(&t, 1.75 + e);
        end(&t, 2.0 + e);
    }
    begin(&t, "step", 4.0); /* same name, other parent: its own record */
    end(&t, 4.5);
    end(&t, 5.0);

    CHECK_EQ_INT(t.depth, 0);
    CHECK_EQ_INT(t.n_records, 4);
    const profile_record *train = &t.records[0], *epoch = &t.records[1], *step = &t.records[2],
                         *step_top = &t.records[3];
    CHECK_EQ_STR(train->name, "train");
    CHECK_EQ_INT(train->parent, -1);
    CHECK_EQ_INT(epoch->parent, 0);
    CHECK_EQ_INT(step->parent, 1);
    CHECK_EQ_INT(step->depth, 2);
    CHECK_EQ_INT(step_top->parent, 0);
    CHECK_EQ_INT(train->count, 1);
    CHECK_EQ_INT(epoch->count, 3);
    CHECK_EQ_INT(step->count, 6);
    CHECK_NEAR(train->wall_s, 5.0, 1e-12);
    CHECK_NEAR(epoch->wall_s, 3.0, 1e-12);
    CHECK_NEAR(step->wall_s, 1.5, 1e-12);
    CHECK_NEAR(step->cpu_user_s, 0.75, 1e-12);
    CHECK_NEAR(step->cpu_sys_s, 0.375, 1e-12);
    CHECK_NEAR(step->mpi_s, 0.15, 1e-12);
    CHECK_EQ_INT(step->read_bytes, 1500);
    CHECK_EQ_INT(step->write_bytes, 3000);
    CHECK_NEAR(epoch->start_s, 1.0, 1e-12);      /* first entry */
    CHECK_NEAR(epoch->end_s, 4.0, 1e-12);        /* last exit */
    CHECK_EQ_INT(step->peak_rss_bytes, 3750000); /* the largest, at the last step's end */
    CHECK_EQ_INT(t.n_events, 11);                /* every occurrence is an event */
    CHECK_EQ_INT(t.events_dropped, 0);
    /* Events are stored when a stage ends: children first. */
    CHECK_EQ_INT(t.events[0].record, 2);
    CHECK_NEAR(t.events[0].start_s, 1.0, 1e-12);
    CHECK_NEAR(t.events[0].dur_s, 0.25, 1e-12);
    CHECK_EQ_INT(t.events[10].record, 0);

    char path[256];
    profile_record_path(&t, 2, path, sizeof path);
    CHECK_EQ_STR(path, "train/epoch/step");
    profile_record_path(&t, 3, path, sizeof path);
    CHECK_EQ_STR(path, "train/step");
    profile_table_free(&t);
}

static void test_end_without_begin(void)
{
    profile_table t;
    profile_table_init(&t, 10);
    profile_sample s = at(1.0);
    CHECK_EQ_INT(profile_table_end(&t, &s), HPCML_EUSAGE);
    hpcml_error_clear();
    profile_table_free(&t);
}

static void test_event_cap(void)
{
    profile_table t;
    profile_table_init(&t, 4);
    for (int i = 0; i < 10; i++) {
        begin(&t, "tick", i);
        end(&t, i + 0.5);
    }
    CHECK_EQ_INT(t.n_records, 1);
    CHECK_EQ_INT(t.records[0].count, 10); /* the record still has all of them */
    CHECK_NEAR(t.records[0].wall_s, 5.0, 1e-12);
    CHECK_EQ_INT(t.n_events, 4);
    CHECK_EQ_INT(t.events_dropped, 6);

    char *chunk = NULL;
    size_t len = 0;
    CHECK_EQ_INT(profile_trace_chunk(&t, 3, 0.0, NULL, &chunk, &len), HPCML_OK);
    json_t *arr = parse_chunk(chunk);
    CHECK(arr != NULL);
    if (arr) {
        CHECK_EQ_INT(count_phase(arr, "X"), 4);
        CHECK_EQ_INT(count_phase(arr, "i"), 1); /* the "events dropped" marker */
        json_decref(arr);
    }
    free(chunk);
    profile_table_free(&t);

    /* A cap of zero: no events at all, the chunk is still valid JSON. */
    profile_table_init(&t, 0);
    begin(&t, "a", 0.0);
    end(&t, 1.0);
    CHECK_EQ_INT(t.n_events, 0);
    CHECK_EQ_INT(profile_trace_chunk(&t, 0, 0.0, "prog", &chunk, &len), HPCML_OK);
    arr = parse_chunk(chunk);
    CHECK(arr != NULL);
    if (arr) {
        CHECK_EQ_INT(count_phase(arr, "X"), 0);
        CHECK_EQ_INT(count_phase(arr, "M"), 3); /* process, thread name, sort index */
        json_decref(arr);
    }
    free(chunk);
    profile_table_free(&t);
}

static void test_closed_copy(void)
{
    profile_table t, c;
    profile_table_init(&t, 100);
    begin(&t, "run", 0.0);
    begin(&t, "load", 1.0);
    end(&t, 2.0);
    begin(&t, "train", 2.0);
    profile_sample now = at(3.0);
    CHECK_EQ_INT(profile_table_closed_copy(&t, &now, &c), HPCML_OK);
    /* The original keeps running ... */
    CHECK_EQ_INT(t.depth, 2);
    CHECK_EQ_INT(t.records[0].count, 0);
    CHECK_EQ_INT(t.n_events, 1);
    /* ... the copy has the open stages closed at "now". */
    CHECK_EQ_INT(c.depth, 0);
    CHECK_EQ_INT(c.n_records, 3);
    CHECK_EQ_INT(c.records[0].count, 1);
    CHECK_NEAR(c.records[0].wall_s, 3.0, 1e-12);
    CHECK_NEAR(c.records[2].wall_s, 1.0, 1e-12);
    CHECK_EQ_INT(c.n_events, 3);
    CHECK(profile_table_signature(&t) == profile_table_signature(&c));
    profile_table_free(&c);
    end(&t, 4.0);
    end(&t, 5.0);
    CHECK_NEAR(t.records[0].wall_s, 5.0, 1e-12);
    profile_table_free(&t);

    /* An empty table copies too. */
    profile_table_init(&t, 10);
    CHECK_EQ_INT(profile_table_closed_copy(&t, &now, &c), HPCML_OK);
    CHECK_EQ_INT(c.n_records, 0);
    profile_table_free(&c);
    profile_table_free(&t);
}

static void test_signature(void)
{
    profile_table a, b;
    profile_table_init(&a, 10);
    profile_table_init(&b, 10);
    begin(&a, "x", 0);
    begin(&a, "y", 0);
    end(&a, 1);
    end(&a, 1);
    begin(&b, "x", 0);
    end(&b, 1);
    begin(&b, "y", 1); /* same names, but "y" is not nested: must differ */
    end(&b, 2);
    CHECK(profile_table_signature(&a) != profile_table_signature(&b));
    profile_table_free(&b);
    profile_table_init(&b, 10);
    begin(&b, "x", 5);
    begin(&b, "y", 5);
    end(&b, 6);
    begin(&b, "y", 6); /* repeats do not change the record sequence */
    end(&b, 7);
    end(&b, 8);
    CHECK(profile_table_signature(&a) == profile_table_signature(&b));
    profile_table_free(&a);
    profile_table_free(&b);
}

static void test_names_and_trace_text(void)
{
    profile_table t;
    profile_table_init(&t, 10);
    char long_name[400];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    begin(&t, "quote\" back\\ tab\t", 0.5);
    end(&t, 1.5);
    begin(&t, long_name, 2.0);
    end(&t, 2.5);
    begin(&t, "bad \xff utf8 \xc3\xa9", 3.0);
    end(&t, 3.5);
    begin(&t, long_name, 4.0); /* truncated names still aggregate */
    end(&t, 4.5);
    CHECK_EQ_INT(t.n_records, 3);
    CHECK_EQ_INT(strlen(t.records[1].name), PROFILE_NAME_MAX - 1);
    CHECK_EQ_INT(t.records[1].count, 2);
    CHECK_EQ_STR(t.records[2].name, "bad ? utf8 \xc3\xa9");

    char *chunk = NULL;
    size_t len = 0;
    CHECK_EQ_INT(profile_trace_chunk(&t, 7, 10.0, "my \"prog\"", &chunk, &len), HPCML_OK);
    CHECK_EQ_INT(len, strlen(chunk));
    json_t *arr = parse_chunk(chunk);
    CHECK(arr != NULL);
    if (arr) {
        CHECK_EQ_INT(count_phase(arr, "X"), 4);
        size_t i;
        json_t *ev;
        int seen_first = 0, seen_thread = 0;
        json_array_foreach(arr, i, ev)
        {
            CHECK_EQ_INT(json_integer_value(json_object_get(ev, "tid")), 7);
            CHECK_EQ_INT(json_integer_value(json_object_get(ev, "pid")), 0);
            const char *name = json_string_value(json_object_get(ev, "name"));
            if (strcmp(name, "thread_name") == 0) {
                seen_thread = 1;
                CHECK_EQ_STR(
                    json_string_value(json_object_get(json_object_get(ev, "args"), "name")),
                    "rank 7");
            }
            if (strcmp(name, "quote\" back\\ tab\t") == 0) {
                seen_first = 1;
                /* microseconds, shifted by the 10 s offset */
                CHECK_NEAR(json_number_value(json_object_get(ev, "ts")), 10.5e6, 1e-3);
                CHECK_NEAR(json_number_value(json_object_get(ev, "dur")), 1e6, 1e-3);
                CHECK_NEAR(
                    json_number_value(json_object_get(json_object_get(ev, "args"), "mpi_ms")),
                    100.0, 1e-3);
            }
        }
        CHECK(seen_first);
        CHECK(seen_thread);
        json_decref(arr);
    }
    free(chunk);
    profile_table_free(&t);
}

int main(void)
{
    test_nesting_and_aggregation();
    test_end_without_begin();
    test_event_cap();
    test_closed_copy();
    test_signature();
    test_names_and_trace_text();
    CHECK_DONE();
}
