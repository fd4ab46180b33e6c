/* profile_stages.c — stage stack, aggregation and trace text. See profile_stages.h. */
#include "core/profile_stages.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

void profile_table_init(profile_table *t, size_t max_events)
{
    memset(t, 0, sizeof *t);
    t->max_events = max_events;
}

void profile_table_free(profile_table *t)
{
    free(t->records);
    free(t->stack);
    free(t->events);
    memset(t, 0, sizeof *t);
}

/* Grow *buf to hold at least need elements of size elem. */
static int grow(void **buf, int *cap, int need, size_t elem)
{
    if (need <= *cap) return HPCML_OK;
    int cap_new = *cap ? *cap * 2 : 16;
    while (cap_new < need)
        cap_new *= 2;
    void *p = realloc(*buf, (size_t)cap_new * elem);
    HPCML_ALLOC_CHECK(p, (size_t)cap_new * elem);
    *buf = p;
    *cap = cap_new;
    return HPCML_OK;
}

/* Length of the UTF-8 sequence starting at p (at most avail bytes), or 0
 * when the bytes there are not one. Only the shape is checked. */
static size_t utf8_seq_len(const unsigned char *p, size_t avail)
{
    size_t n = p[0] < 0x80             ? 1
               : (p[0] & 0xE0) == 0xC0 ? 2
               : (p[0] & 0xF0) == 0xE0 ? 3
               : (p[0] & 0xF8) == 0xF0 ? 4
                                       : 0;
    if (n == 0 || n > avail) return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return n;
}

/* Copy name, truncated to fit without cutting a UTF-8 sequence in half;
 * bytes that are not UTF-8 become '?', so both JSON files stay valid. */
static void copy_name(char *dst, const char *src)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t left = strlen(src), k = 0;
    while (left > 0) {
        size_t n = utf8_seq_len(p, left);
        if (n == 0) {
            if (k + 1 >= PROFILE_NAME_MAX) break;
            dst[k++] = '?';
            p++, left--;
            continue;
        }
        if (k + n >= PROFILE_NAME_MAX) break;
        memcpy(dst + k, p, n);
        k += n, p += n, left -= n;
    }
    dst[k] = '\0';
}

static int find_record(const profile_table *t, int parent, const char *name)
{
    char key[PROFILE_NAME_MAX];
    copy_name(key, name);
    /* Children of one parent are few; the newest records are the likeliest. */
    for (int i = t->n_records - 1; i >= 0; i--)
        if (t->records[i].parent == parent && strcmp(t->records[i].name, key) == 0) return i;
    return -1;
}

int profile_table_begin(profile_table *t, const char *name, const profile_sample *now)
{
    int parent = t->depth > 0 ? t->stack[t->depth - 1].record : -1;
    int rec = find_record(t, parent, name ? name : "");
    if (rec < 0) {
        HPCML_TRY(
            grow((void **)&t->records, &t->cap_records, t->n_records + 1, sizeof *t->records));
        rec = t->n_records++;
        profile_record *r = &t->records[rec];
        memset(r, 0, sizeof *r);
        copy_name(r->name, name ? name : "");
        r->parent = parent;
        r->depth = t->depth;
        r->start_s = now->wall_s;
    }
    HPCML_TRY(grow((void **)&t->stack, &t->cap_stack, t->depth + 1, sizeof *t->stack));
    t->stack[t->depth].record = rec;
    t->stack[t->depth].start = *now;
    t->depth++;
    return HPCML_OK;
}

static void add_event(profile_table *t, const profile_event *ev)
{
    if (t->n_events >= t->max_events) {
        t->events_dropped++;
        return;
    }
    if (t->n_events == t->cap_events) {
        size_t cap_new = t->cap_events ? t->cap_events * 2 : 1024;
        if (cap_new > t->max_events) cap_new = t->max_events;
        profile_event *p = realloc(t->events, cap_new * sizeof *p);
        if (!p) { /* losing a trace event is better than failing the program */
            t->events_dropped++;
            return;
        }
        t->events = p;
        t->cap_events = cap_new;
    }
    t->events[t->n_events++] = *ev;
}

int profile_table_end(profile_table *t, const profile_sample *now)
{
    HPCML_CHECK(t->depth > 0, HPCML_EUSAGE, "profile_end without a matching profile_begin");
    const profile_open_stage *open = &t->stack[--t->depth];
    const profile_sample *s = &open->start;
    profile_record *r = &t->records[open->record];
    double wall = now->wall_s - s->wall_s;
    double mpi = now->mpi_s - s->mpi_s;
    r->count++;
    r->end_s = now->wall_s;
    r->wall_s += wall;
    r->cpu_user_s += now->cpu_user_s - s->cpu_user_s;
    r->cpu_sys_s += now->cpu_sys_s - s->cpu_sys_s;
    r->mpi_s += mpi;
    r->read_bytes += now->read_bytes - s->read_bytes;
    r->write_bytes += now->write_bytes - s->write_bytes;
    if (now->peak_rss_bytes > r->peak_rss_bytes) r->peak_rss_bytes = now->peak_rss_bytes;
    profile_event ev = {open->record, s->wall_s, wall, mpi};
    add_event(t, &ev);
    return HPCML_OK;
}

int profile_table_closed_copy(const profile_table *t, const profile_sample *now, profile_table *out)
{
    profile_table_init(out, t->max_events);
    out->n_records = out->cap_records = t->n_records;
    out->depth = out->cap_stack = t->depth;
    out->n_events = out->cap_events = t->n_events;
    out->events_dropped = t->events_dropped;
    /* +1 so that empty tables still get non-NULL buffers. */
    out->records = malloc(((size_t)t->n_records + 1) * sizeof *out->records);
    out->stack = malloc(((size_t)t->depth + 1) * sizeof *out->stack);
    out->events = malloc((t->n_events + 1) * sizeof *out->events);
    if (!out->records || !out->stack || !out->events) {
        profile_table_free(out);
        return HPCML_FAIL(HPCML_EINTERNAL, "out of memory copying the profile");
    }
    /* memcpy from a NULL buffer is undefined even for zero bytes. */
    if (t->n_records) memcpy(out->records, t->records, (size_t)t->n_records * sizeof *out->records);
    if (t->depth) memcpy(out->stack, t->stack, (size_t)t->depth * sizeof *out->stack);
    if (t->n_events) memcpy(out->events, t->events, t->n_events * sizeof *out->events);
    while (out->depth > 0)
        profile_table_end(out, now);
    return HPCML_OK;
}

void profile_record_path(const profile_table *t, int record, char *out, size_t n)
{
    if (n == 0) return;
    out[0] = '\0';
    if (record < 0 || record >= t->n_records) return;
    int chain[256];
    int k = 0;
    for (int r = record; r >= 0 && k < 256; r = t->records[r].parent)
        chain[k++] = r;
    size_t used = 0;
    for (int i = k - 1; i >= 0 && used < n; i--) {
        int w = snprintf(out + used, n - used, "%s%s", i == k - 1 ? "" : "/",
                         t->records[chain[i]].name);
        if (w < 0) break;
        used += (size_t)w;
    }
}

uint64_t profile_table_signature(const profile_table *t)
{
    uint64_t h = 14695981039346656037ULL;
    for (int i = 0; i < t->n_records; i++) {
        for (const unsigned char *p = (const unsigned char *)t->records[i].name; *p; p++) {
            h ^= *p;
            h *= 1099511628211ULL;
        }
        /* The parent index, offset by one so -1 hashes too, and a separator
         * byte that no name contains. */
        uint32_t parent = (uint32_t)(t->records[i].parent + 1);
        for (int b = 0; b < 4; b++) {
            h ^= (parent >> (8 * b)) & 0xFF;
            h *= 1099511628211ULL;
        }
        h ^= 0xFF;
        h *= 1099511628211ULL;
    }
    return h;
}

/* ---- trace text --------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len, cap;
    int failed;
} text_buf;

static void tb_reserve(text_buf *b, size_t more)
{
    if (b->failed || b->len + more + 1 <= b->cap) return;
    size_t cap_new = b->cap ? b->cap : 4096;
    while (cap_new < b->len + more + 1)
        cap_new *= 2;
    char *p = realloc(b->buf, cap_new);
    if (!p) {
        b->failed = 1;
        return;
    }
    b->buf = p;
    b->cap = cap_new;
}

static void tb_printf(text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tb_printf(text_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) {
        b->failed = 1;
        return;
    }
    tb_reserve(b, (size_t)need);
    if (b->failed) return;
    va_start(ap, fmt);
    vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)need;
}

/* JSON string literal of s (quotes included); s is taken as UTF-8. */
static void json_quote(const char *s, char *out, size_t n)
{
    size_t k = 0;
    out[k++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p && k + 8 < n; p++) {
        if (*p == '"' || *p == '\\') {
            out[k++] = '\\';
            out[k++] = (char)*p;
        } else if (*p < 0x20) {
            k += (size_t)snprintf(out + k, n - k, "\\u%04x", *p);
        } else {
            out[k++] = (char)*p;
        }
    }
    out[k++] = '"';
    out[k] = '\0';
}

int profile_trace_chunk(const profile_table *t, int rank, double offset_s, const char *program,
                        char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    text_buf b = {0};
    char quoted[PROFILE_NAME_MAX * 6 + 8];
    if (program) {
        json_quote(program, quoted, sizeof quoted);
        tb_printf(&b,
                  "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":0,\"tid\":%d,"
                  "\"args\":{\"name\":%s}},\n",
                  rank, quoted);
    }
    tb_printf(&b,
              "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":0,\"tid\":%d,"
              "\"args\":{\"name\":\"rank %d\"}},\n"
              "{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":0,\"tid\":%d,"
              "\"args\":{\"sort_index\":%d}}",
              rank, rank, rank, rank);

    /* Quote each record's name once, not once per event. */
    char **names = calloc((size_t)t->n_records + 1, sizeof *names);
    if (!names) {
        free(b.buf);
        return HPCML_FAIL(HPCML_EINTERNAL, "out of memory writing the trace");
    }
    for (int i = 0; i < t->n_records && !b.failed; i++) {
        json_quote(t->records[i].name, quoted, sizeof quoted);
        names[i] = strdup(quoted);
        if (!names[i]) b.failed = 1;
    }
    double last_end_us = 0.0;
    for (size_t i = 0; i < t->n_events && !b.failed; i++) {
        const profile_event *ev = &t->events[i];
        double ts_us = (ev->start_s + offset_s) * 1e6;
        double dur_us = ev->dur_s * 1e6;
        if (ts_us + dur_us > last_end_us) last_end_us = ts_us + dur_us;
        tb_printf(&b,
                  ",\n{\"name\":%s,\"cat\":\"stage\",\"ph\":\"X\",\"pid\":0,\"tid\":%d,"
                  "\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"mpi_ms\":%.3f}}",
                  names[ev->record], rank, ts_us, dur_us, ev->mpi_s * 1e3);
    }
    if (t->events_dropped > 0)
        tb_printf(&b,
                  ",\n{\"name\":\"profile: %lld more events dropped (cap %zu per rank)\","
                  "\"ph\":\"i\",\"s\":\"t\",\"pid\":0,\"tid\":%d,\"ts\":%.3f}",
                  t->events_dropped, t->max_events, rank, last_end_us);
    for (int i = 0; i < t->n_records; i++)
        free(names[i]);
    free(names);
    if (b.failed) {
        free(b.buf);
        return HPCML_FAIL(HPCML_EINTERNAL, "out of memory writing the trace");
    }
    *out = b.buf;
    *len = b.len;
    return HPCML_OK;
}
