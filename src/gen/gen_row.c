/* gen_row.c — the synthetic table's row model and its fast CSV formatting.
 * See gen_row.h for the contract.
 *
 * Draws of row i, in order, on rng_seq(seed, RNG_STREAM_GEN_ROW, i):
 *   block 0 words: w0 unused, w1 cluster side + hard positive, w2 Time
 *                  jitter, w3 unused (the class: see gen_row_label);
 *   28 normals z1..z28 for V1..V28 (14 blocks, both Box-Muller halves);
 *   1 normal for Amount (a fresh block, cosine half);
 *   per categorical column: 2 words (level, "uniform for positives" coin).
 * Every row draws the same words whatever its class, so adding a column
 * changes no earlier value.
 *
 * Learnability (default table, Time dropped, log1p(Amount), standardized,
 * 70/30 stratified split; seeds 42, 3, 11): scikit-learn's MLP (32, 16)
 * reaches F1 0.92 / 0.95 / 0.98 at threshold 0.5, logistic regression at
 * most 0.50 / 0.55 / 0.55 (best threshold): it can only cut off one cluster.
 * The hard positives (4%) keep recall, and so F1, below 1.
 *
 * Defects of row i on rng_seq(seed, RNG_STREAM_GEN_DEFECT, i):
 *   block 0 words: w0 malformed?, w1 kind, w2 position, w3 text choice;
 *   then, when missing_fraction > 0, one word per V cell (empty if below the
 *   threshold). */
#include "gen/gen_row.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

/* ---- the model's numbers ------------------------------------------------ */
#define V_SD_FIRST          2.0  /* sd of V1 */
#define V_SD_LAST           0.33 /* sd of V28 */
#define CLUSTER_DISTANCE    7.0  /* cluster centre, in negatives' sds along DIR */
#define CLUSTER_SPREAD      1.1  /* positives' sd, in negatives' sds */
#define HARD_POSITIVE_SHARE 0.04 /* positives with the shifts only, no cluster */
/* Unit direction of the two clusters in V1..V4 (signs as in the real set). */
static const double cluster_dir[4] = {-0.5, 0.5, -0.5, 0.5};
/* Shifts of the positives' means, in sds of the column: {column, shift}. */
static const struct {
    int column; /* 1-based V index */
    double shift;
} positive_shift[] = {{10, -1.5}, {11, 1.0}, {12, -1.5}, {14, -2.0}, {17, -1.0}};
#define AMOUNT_MU_NEG        3.0 /* log-space: median 20 */
#define AMOUNT_SIGMA_NEG     1.4
#define AMOUNT_MU_POS        2.2 /* median 9, heavier tail */
#define AMOUNT_SIGMA_POS     2.0
#define AMOUNT_MAX           25691.16 /* the real set's maximum */
#define CAT_POSITIVE_UNIFORM 0.5      /* share of positives whose level is uniform */
#define V_ABS_MAX            1e6      /* keeps every field short; never reached */

static const char *const bad_number_text[] = {"abc", "#VALUE!", "1.2.3", "12e", "--5", "x17"};
#define N_BAD_TEXT (sizeof bad_number_text / sizeof bad_number_text[0])

/* sd and positive-class mean offset (in units of the sd) of V1..V28. */
typedef struct {
    double sd[GEN_V_COLUMNS];
    double shift[GEN_V_COLUMNS];
} v_model;

static const v_model *model(void)
{
    static v_model m;
    static int ready;
    if (!ready) { /* idempotent: racing initializers write the same numbers */
        for (int j = 0; j < GEN_V_COLUMNS; j++) {
            m.sd[j] = V_SD_FIRST * pow(V_SD_LAST / V_SD_FIRST, j / (double)(GEN_V_COLUMNS - 1));
            m.shift[j] = 0.0;
        }
        for (size_t k = 0; k < sizeof positive_shift / sizeof positive_shift[0]; k++)
            m.shift[positive_shift[k].column - 1] = positive_shift[k].shift;
        ready = 1;
    }
    return &m;
}

/* P(u32 word < threshold) = fraction, exactly 0 and 1 at the ends. */
static uint64_t word_threshold(double fraction)
{
    if (!(fraction > 0.0)) return 0;
    if (fraction >= 1.0) return 1ull << 32;
    return (uint64_t)(fraction * 4294967296.0);
}

int gen_drift_bit(const char *name)
{
    if (!strcmp(name, "Amount")) return GEN_V_COLUMNS;
    if (name[0] != 'V' || name[1] < '1' || name[1] > '9') return -1;
    char *end;
    long j = strtol(name + 1, &end, 10);
    return *end || j < 1 || j > GEN_V_COLUMNS ? -1 : (int)j - 1;
}

void gen_params_default(gen_params *p)
{
    memset(p, 0, sizeof *p);
    p->drift_scale = 1.0;
    p->seed = 42;
    p->rows = 284807;
    p->positive_fraction = 0.00172;
    p->categorical_columns = 0;
    p->category_levels = 5;
}

static int n_categorical(const gen_params *p)
{
    int k = p->categorical_columns;
    return k < 0 ? 0 : k > GEN_MAX_CATEGORICAL ? GEN_MAX_CATEGORICAL : k;
}

int gen_column_count(const gen_params *p)
{
    return 2 + GEN_V_COLUMNS + n_categorical(p) + 1;
}

const char *gen_column_name(const gen_params *p, int c, char *out, size_t n)
{
    int k = n_categorical(p);
    if (c == 0)
        snprintf(out, n, "Time");
    else if (c <= GEN_V_COLUMNS)
        snprintf(out, n, "V%d", c);
    else if (c == GEN_V_COLUMNS + 1)
        snprintf(out, n, "Amount");
    else if (c <= GEN_V_COLUMNS + 1 + k)
        snprintf(out, n, "Cat%d", c - GEN_V_COLUMNS - 1);
    else
        snprintf(out, n, "Class");
    return out;
}

/* ---- formatting without printf --------------------------------------------- */
static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

static char *put_uint(char *p, uint64_t v)
{
    char tmp[24];
    char *t = tmp + sizeof tmp;
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        *--t = digit_pairs[d + 1];
        *--t = digit_pairs[d];
    }
    if (v >= 10) {
        *--t = digit_pairs[v * 2 + 1];
        *--t = digit_pairs[v * 2];
    } else {
        *--t = (char)('0' + v);
    }
    size_t n = (size_t)(tmp + sizeof tmp - t);
    memcpy(p, t, n);
    return p + n;
}

/* v with `decimals` (2 or 6) digits after the point, rounded half away from
 * zero; never "-0.000000". |v| must stay below ~1e12. */
static char *put_fixed(char *p, double v, int decimals)
{
    const double scale = decimals == 6 ? 1e6 : 1e2;
    const uint64_t unit = decimals == 6 ? 1000000u : 100u;
    int neg = v < 0;
    uint64_t s = (uint64_t)((neg ? -v : v) * scale + 0.5);
    if (neg && s) *p++ = '-';
    uint64_t whole = s / unit;
    if (whole < 10)
        *p++ = (char)('0' + whole); /* the common case of V columns */
    else
        p = put_uint(p, whole);
    *p++ = '.';
    unsigned frac = (unsigned)(s % unit);
    if (decimals == 6) {
        unsigned a = frac / 10000, b = (frac / 100) % 100, c = frac % 100;
        memcpy(p, digit_pairs + 2 * a, 2);
        memcpy(p + 2, digit_pairs + 2 * b, 2);
        memcpy(p + 4, digit_pairs + 2 * c, 2);
        return p + 6;
    }
    memcpy(p, digit_pairs + 2 * frac, 2);
    return p + 2;
}

/* ---- the row ---------------------------------------------------------------- */
size_t gen_header_format(const gen_params *p, char *buf, size_t cap)
{
    char line[GEN_ROW_MAX_BYTES];
    char *q = line;
    memcpy(q, "Time", 4);
    q += 4;
    for (int j = 1; j <= GEN_V_COLUMNS; j++) {
        *q++ = ',';
        *q++ = 'V';
        q = put_uint(q, (uint64_t)j);
    }
    memcpy(q, ",Amount", 7);
    q += 7;
    for (int k = 1; k <= n_categorical(p); k++) {
        memcpy(q, ",Cat", 4);
        q += 4;
        q = put_uint(q, (uint64_t)k);
    }
    memcpy(q, ",Class\n", 7);
    q += 7;
    size_t n = (size_t)(q - line);
    if (n < cap) {
        memcpy(buf, line, n);
        buf[n] = '\0';
    } else if (cap > 0) {
        buf[0] = '\0';
    }
    return n;
}

/* Positives are stratified: row i belongs to run floor(i * f), and each run
 * (about 1/f rows) holds exactly one positive at a uniform position drawn
 * with rng_uniform(seed, GEN_ROW, run, 0), a lane region that the rows' own
 * sequential draws never touch. So the table has rows * f positives up to
 * one, at random places, and row i's class costs one Philox block. */
static uint64_t run_of(uint64_t i, double f)
{
    return (uint64_t)((double)i * f);
}

/* The first row of run m, found through run_of itself so that rounding can
 * never make the runs overlap or leave gaps. */
static uint64_t run_first_row(uint64_t m, double f)
{
    uint64_t i = (uint64_t)((double)m / f);
    while (i > 0 && run_of(i - 1, f) >= m)
        i--;
    while (run_of(i, f) < m)
        i++;
    return i;
}

int gen_row_label(const gen_params *p, uint64_t i)
{
    double f = p->positive_fraction;
    if (!(f > 0.0)) return 0;
    if (f >= 1.0) return 1;
    uint64_t m = run_of(i, f);
    uint64_t first = run_first_row(m, f), n = run_first_row(m + 1, f) - first;
    double u = rng_uniform(p->seed, RNG_STREAM_GEN_ROW, m, 0);
    uint64_t k = (uint64_t)(u * (double)n);
    return first + (k < n ? k : n - 1) == i;
}

/* The fields of one row, in order, as numbers; formatting happens after
 * the defects are decided. */
typedef struct {
    uint64_t time_s;
    double v[GEN_V_COLUMNS];
    double amount;
    uint32_t level[GEN_MAX_CATEGORICAL];
    int label, cluster;
} row_values;

static void draw_values(const gen_params *p, uint64_t i, row_values *r)
{
    const v_model *m = model();
    rng_seq s;
    rng_seq_init(&s, p->seed, RNG_STREAM_GEN_ROW, i);
    (void)rng_seq_u32(&s); /* w0: spare (the class comes from gen_row_label) */
    uint32_t w_cluster = rng_seq_u32(&s);
    uint32_t w_time = rng_seq_u32(&s);
    (void)rng_seq_u32(&s); /* w3: spare, keeps the layout fixed */

    r->label = gen_row_label(p, i);
    int hard = (uint64_t)(w_cluster >> 1) < (uint64_t)(HARD_POSITIVE_SHARE * 2147483648.0);
    r->cluster = !r->label || hard ? 0 : (w_cluster & 1) ? 1 : -1;

    /* Non-decreasing: row i's time lies in its own slot [i, i+1) * span/rows. */
    uint64_t rows = p->rows > i ? p->rows : i + 1;
    double t = ((double)i + w_time * 0x1.0p-32) * (GEN_TIME_SPAN_S / (double)rows);
    r->time_s = (uint64_t)t;

    for (int j = 0; j < GEN_V_COLUMNS; j++) {
        double z = rng_seq_normal(&s);
        double x;
        if (!r->label) {
            x = z;
        } else {
            x = CLUSTER_SPREAD * z + m->shift[j];
            if (j < 4) x += r->cluster * CLUSTER_DISTANCE * cluster_dir[j];
        }
        x *= m->sd[j];
        if (p->drift_mask >> j & 1) x = p->drift_scale * x + p->drift_shift * m->sd[j];
        r->v[j] = x > V_ABS_MAX ? V_ABS_MAX : x < -V_ABS_MAX ? -V_ABS_MAX : x;
    }

    double za = rng_seq_normal(&s);
    double amount = r->label ? exp(AMOUNT_MU_POS + AMOUNT_SIGMA_POS * za)
                             : exp(AMOUNT_MU_NEG + AMOUNT_SIGMA_NEG * za);
    r->amount = amount > AMOUNT_MAX ? AMOUNT_MAX : amount;
    if (p->drift_mask >> GEN_V_COLUMNS & 1) {
        /* around the negatives' log-median, like the V columns around 0 */
        double la = AMOUNT_MU_NEG + p->drift_scale * (log(r->amount) - AMOUNT_MU_NEG) +
                    p->drift_shift * AMOUNT_SIGMA_NEG;
        r->amount = la > log(V_ABS_MAX) ? V_ABS_MAX : exp(la);
    }

    int levels = p->category_levels < 2 ? 2 : p->category_levels;
    for (int k = 0; k < n_categorical(p); k++) {
        double u = rng_seq_u32(&s) * 0x1.0p-32;
        uint32_t coin = rng_seq_u32(&s);
        uint32_t level;
        if (r->label && (uint64_t)coin < (uint64_t)(CAT_POSITIVE_UNIFORM * 4294967296.0)) {
            level = (uint32_t)(u * levels);
        } else {
            /* P(level l) ~ log((l+2)/(l+1)): a continuous Zipf (1/x) law. */
            level = (uint32_t)pow((double)levels + 1.0, u) - 1u;
        }
        r->level[k] = level >= (uint32_t)levels ? (uint32_t)levels - 1 : level;
        if (p->new_category_fraction > 0 &&
            rng_uniform(p->seed, RNG_STREAM_GEN_DRIFT, i, (uint32_t)k) < p->new_category_fraction)
            r->level[k] = (uint32_t)levels; /* a level undrifted data never holds */
    }
}

size_t gen_row_format_info(const gen_params *p, uint64_t i, char *buf, size_t cap,
                           gen_row_info *info)
{
    row_values r;
    draw_values(p, i, &r);
    const int n_cols = gen_column_count(p);

    /* Defects. */
    rng_seq d;
    rng_seq_init(&d, p->seed, RNG_STREAM_GEN_DEFECT, i);
    uint32_t w_bad = rng_seq_u32(&d), w_kind = rng_seq_u32(&d);
    uint32_t w_pos = rng_seq_u32(&d), w_text = rng_seq_u32(&d);
    gen_row_defect defect = GEN_ROW_OK;
    if ((uint64_t)w_bad < word_threshold(p->malformed_fraction))
        defect = (gen_row_defect)(1 + w_kind % 3);
    int keep_fields = n_cols;                          /* TOO_FEW_FIELDS */
    int odd_column = 1 + (int)(w_pos % GEN_V_COLUMNS); /* BAD_NUMBER, OPEN_QUOTE */
    if (defect == GEN_ROW_TOO_FEW_FIELDS) keep_fields = 1 + (int)(w_pos % (uint32_t)(n_cols - 1));
    uint32_t missing_mask = 0;
    int missing = 0;
    uint64_t miss_thr = word_threshold(p->missing_fraction);
    if (miss_thr) {
        for (int j = 0; j < GEN_V_COLUMNS; j++) {
            if ((uint64_t)rng_seq_u32(&d) < miss_thr) {
                missing_mask |= 1u << j;
                missing++;
            }
        }
    }

    /* Format into buf directly when it is surely big enough. */
    char local[GEN_ROW_MAX_BYTES];
    char *line = cap >= GEN_ROW_MAX_BYTES ? buf : local;
    char *q = line;
    int field = 0;
#define NEXT_FIELD()                                                                               \
    do {                                                                                           \
        if (++field >= keep_fields) goto end_of_line;                                              \
        *q++ = ',';                                                                                \
    } while (0)

    q = put_uint(q, r.time_s);
    NEXT_FIELD();
    for (int j = 0; j < GEN_V_COLUMNS; j++) {
        if (j + 1 == odd_column && defect == GEN_ROW_BAD_NUMBER) {
            const char *t = bad_number_text[w_text % N_BAD_TEXT];
            size_t n = strlen(t);
            memcpy(q, t, n);
            q += n;
        } else {
            if (j + 1 == odd_column && defect == GEN_ROW_OPEN_QUOTE) *q++ = '"';
            if (!(missing_mask >> j & 1)) q = put_fixed(q, r.v[j], 6);
        }
        NEXT_FIELD();
    }
    q = put_fixed(q, r.amount, 2);
    NEXT_FIELD();
    for (int k = 0; k < n_categorical(p); k++) {
        *q++ = 'c';
        q = put_uint(q, r.level[k]);
        NEXT_FIELD();
    }
    *q++ = (char)('0' + r.label);
end_of_line:
#undef NEXT_FIELD
    *q++ = '\n';
    size_t n = (size_t)(q - line);

    if (info) {
        info->label = r.label;
        info->cluster = r.cluster;
        info->defect = defect;
        info->missing_cells = missing;
    }
    if (n < cap) {
        if (line != buf) memcpy(buf, line, n);
        buf[n] = '\0';
    } else if (cap > 0) {
        buf[0] = '\0';
    }
    return n;
}

size_t gen_row_format(const gen_params *p, uint64_t i, char *buf, size_t cap)
{
    return gen_row_format_info(p, i, buf, cap, NULL);
}
