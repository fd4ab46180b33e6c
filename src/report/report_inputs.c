/* report_inputs.c — reads a run's files for hpcml-report and writes report.html. See
 * report_inputs.h. */
#include "report/report_inputs.h"

#include <errno.h>
#include <hdf5.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/atomic_file.h"
#include "core/log.h"
#include "core/status.h"
#include "core/svg.h"
#include "etl/csv_tokenize.h"
#include "etl/etl_schema.h"
#include "io/path_guard.h"
#include "report/report_page.h"

static void set_input(report_input *in, const char *path)
{
    memset(in, 0, sizeof *in);
    in->path = path;
    struct stat sb;
    in->state = stat(path, &sb) == 0 ? INPUT_OK : INPUT_MISSING;
}

static void corrupt(report_input *in, const char *fmt, const char *detail)
{
    in->state = INPUT_CORRUPT;
    snprintf(in->problem, sizeof in->problem, fmt, detail);
    log_error("%s: %s", in->path, in->problem);
}

/* A JSON file whose "format" must be format (NULL: any). */
static json_t *load_json(report_input *in, const char *format)
{
    if (in->state != INPUT_OK) return NULL;
    json_error_t err;
    json_t *j = json_load_file(in->path, 0, &err);
    if (!j) {
        char what[300];
        snprintf(what, sizeof what, "line %d, column %d: %s", err.line, err.column, err.text);
        corrupt(in, "not valid JSON (%s)", what);
        return NULL;
    }
    const char *f = json_string_value(json_object_get(j, "format"));
    if (format && (!f || strcmp(f, format))) {
        corrupt(in, "expected a JSON object with \"format\": \"%s\"", format);
        json_decref(j);
        return NULL;
    }
    return j;
}

static char *read_text(report_input *in, size_t *len)
{
    FILE *fp = fopen(in->path, "rb");
    if (!fp) {
        corrupt(in, "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, fp)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int bad = ferror(fp);
    fclose(fp);
    if (!buf || bad) {
        free(buf);
        corrupt(in, "%s", bad ? "read error" : "out of memory");
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* metrics.jsonl: one object per line; a line that does not parse names its number. */
static json_t *load_jsonl(report_input *in)
{
    if (in->state != INPUT_OK) return NULL;
    size_t len;
    char *text = read_text(in, &len);
    if (!text) return NULL;
    json_t *arr = json_array();
    int line = 0;
    for (char *s = text; arr && *s;) {
        char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        line++;
        if (n > 0) {
            json_error_t err;
            json_t *o = json_loadb(s, n, 0, &err);
            if (!json_is_object(o)) {
                char what[300];
                snprintf(what, sizeof what, "line %d, column %d: %s", line, err.column,
                         o ? "not a JSON object" : err.text);
                json_decref(o);
                corrupt(in, "not valid JSON lines (%s)", what);
                json_decref(arr);
                arr = NULL;
                break;
            }
            json_array_append_new(arr, o);
        }
        s = nl ? nl + 1 : s + n;
    }
    free(text);
    return arr;
}

/* results.csv -> array of objects (column -> text), read with the ETL's tokenizer
 * (RFC 4180, the dialect hpcml-sweep writes it in). */
static json_t *load_csv(report_input *in)
{
    if (in->state != INPUT_OK) return NULL;
    size_t len;
    char *text = read_text(in, &len);
    if (!text) return NULL;
    csv_dialect d;
    csv_dialect_default(&d);
    csv_cursor cur;
    csv_cursor_init(&cur, 1);
    csv_record rec;
    csv_record_init(&rec);
    csv_error err;
    json_t *rows = json_array(), *head = json_array();
    char what[160];
    what[0] = '\0';
    for (;;) {
        int rc = csv_next_record(&d, text, len, &cur, &rec, &err);
        if (rc == CSV_END) break;
        if (rc != HPCML_OK) {
            csv_error_format(&err, what, sizeof what);
            break;
        }
        if (rec.empty) continue;
        if (json_array_size(head) == 0) {
            for (size_t k = 0; k < rec.nfields; k++)
                json_array_append_new(head, json_stringn(rec.fields[k].ptr, rec.fields[k].len));
            continue;
        }
        if (rec.nfields != json_array_size(head)) {
            snprintf(what, sizeof what, "line %zu has %zu fields, the header %zu", rec.line,
                     rec.nfields, json_array_size(head));
            break;
        }
        json_t *row = json_object();
        for (size_t k = 0; k < rec.nfields; k++)
            json_object_set_new(row, json_string_value(json_array_get(head, k)),
                                json_stringn(rec.fields[k].ptr, rec.fields[k].len));
        json_array_append_new(rows, row);
    }
    if (!what[0] && json_array_size(head) < 3) snprintf(what, sizeof what, "no header line");
    if (what[0]) {
        corrupt(in, "not the sweep's results table (%s)", what);
        json_decref(rows);
        rows = NULL;
    }
    json_decref(head);
    csv_record_free(&rec);
    free(text);
    return rows;
}

/* The journal's own header decides the parameters of its replay (the
 * report's config may differ, e.g. a sweep run with -s sweep.trials=16). */
static int load_journal(report_input *in, sweep_state *st)
{
    if (in->state != INPUT_OK) return 0;
    size_t len;
    char *text = read_text(in, &len);
    if (!text) return 0;
    char *nl = strchr(text, '\n');
    json_t *h = journal_parse_line(text, nl ? (size_t)(nl - text) : len);
    const char *ev = json_string_value(json_object_get(h, "event"));
    if (!h || !ev || strcmp(ev, "sweep")) {
        json_decref(h);
        free(text);
        corrupt(in, "%s", "the first line is not a sweep header record");
        return 0;
    }
    sweep_params p = {0};
    const char *sched = json_string_value(json_object_get(h, "scheduler"));
    p.scheduler = !sched || !strcmp(sched, "asha")   ? SCHED_ASHA
                  : !strcmp(sched, "asha_promotion") ? SCHED_ASHA_PROMOTION
                                                     : SCHED_NONE;
    const char *mode = json_string_value(json_object_get(h, "mode"));
    p.mode_max = !mode || strcmp(mode, "min") != 0;
    const char *metric = json_string_value(json_object_get(h, "metric"));
    snprintf(p.metric, sizeof p.metric, "%s", metric ? metric : "metric");
    p.max_t = json_number_value(json_object_get(h, "max_t"));
    p.grace_period = json_number_value(json_object_get(h, "grace_period"));
    p.rf = json_number_value(json_object_get(h, "reduction_factor"));
    p.trials = json_integer_value(json_object_get(h, "trials"));
    const char *seed = json_string_value(json_object_get(h, "seed"));
    const char *hash = json_string_value(json_object_get(h, "space_hash"));
    p.seed = seed ? strtoull(seed, NULL, 10) : 0;
    p.space_hash = hash ? strtoull(hash, NULL, 16) : 0;
    /* the searcher too (a TPE journal); none in the header means random search */
    const char *search = json_string_value(json_object_get(h, "search"));
    snprintf(p.search, sizeof p.search, "%s", search ? search : "");
    p.lock_stale_s = 60;
    p.heartbeat_timeout_s = 600;
    json_decref(h);
    int ok = p.trials > 0 && p.trials <= 10000000 && sweep_state_init(st, &p) == HPCML_OK;
    if (!ok) {
        hpcml_error_clear();
        free(text);
        corrupt(in, "%s", "its header record has impossible sweep parameters");
        return 0;
    }
    size_t consumed = 0;
    if (sweep_state_replay_text(st, text, len, &consumed) != HPCML_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", hpcml_error_message());
        hpcml_error_clear();
        sweep_state_free(st);
        free(text);
        corrupt(in, "replay failed: %s", msg);
        return 0;
    }
    free(text);
    return 1;
}

static int read_string_attr(hid_t file, const char *name, char *out, size_t n)
{
    if (H5Aexists(file, name) <= 0) return -1;
    hid_t a = H5Aopen(file, name, H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, n);
    int bad = a < 0 || H5Aread(a, t, out) < 0;
    H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    out[n - 1] = '\0';
    return bad ? -1 : 0;
}

/* The predictions file as score runs (metrics.h), read in blocks and merged,
 * so memory follows the distinct scores, not the rows. */
static int load_predictions(report_input *in, metrics_run **runs_out, size_t *n_out,
                            double *threshold, char *split, size_t split_n)
{
    if (in->state != INPUT_OK) return 0;
    H5E_BEGIN_TRY
    { /* a damaged file is reported below, not printed by HDF5 */
        hid_t f = H5Fopen(in->path, H5F_ACC_RDONLY, H5P_DEFAULT);
        char fmt[64] = "";
        hid_t ds_s = -1, ds_l = -1;
        metrics_run *acc = NULL, *tmp = NULL, *blk = NULL;
        double *score = NULL;
        int32_t *label = NULL;
        float *fscore = NULL;
        size_t n_acc = 0;
        const char *problem = NULL;
        if (f < 0) {
            problem = "not an HDF5 file";
            goto out;
        }
        if (read_string_attr(f, "hpcml_format", fmt, sizeof fmt) ||
            strcmp(fmt, "hpcml-predictions")) {
            problem = "no hpcml_format = \"hpcml-predictions\" attribute";
            goto out;
        }
        if (read_string_attr(f, "split", split, split_n)) snprintf(split, split_n, "?");
        hid_t a = H5Aexists(f, "threshold") > 0 ? H5Aopen(f, "threshold", H5P_DEFAULT) : -1;
        if (a < 0 || H5Aread(a, H5T_NATIVE_DOUBLE, threshold) < 0) *threshold = 0.5;
        if (a >= 0) H5Aclose(a);
        ds_s = H5Dopen2(f, "score", H5P_DEFAULT);
        ds_l = H5Dopen2(f, "label", H5P_DEFAULT);
        if (ds_s < 0 || ds_l < 0) {
            problem = "missing the /score or /label dataset";
            goto out;
        }
        hid_t sp = H5Dget_space(ds_s);
        hsize_t rows = 0;
        int rank = H5Sget_simple_extent_dims(sp, &rows, NULL);
        H5Sclose(sp);
        if (rank != 1) {
            problem = "/score is not one-dimensional";
            goto out;
        }
        const hsize_t block = 1 << 20;
        score = malloc(block * sizeof *score);
        fscore = malloc(block * sizeof *fscore);
        label = malloc(block * sizeof *label);
        blk = malloc(block * sizeof *blk);
        if (!score || !fscore || !label || !blk) {
            problem = "out of memory";
            goto out;
        }
        for (hsize_t off = 0; off < rows; off += block) {
            hsize_t cnt = rows - off < block ? rows - off : block;
            hid_t fs = H5Dget_space(ds_s), ms = H5Screate_simple(1, &cnt, NULL);
            H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &cnt, NULL);
            int bad = H5Dread(ds_s, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, fscore) < 0 ||
                      H5Dread(ds_l, H5T_NATIVE_INT32, ms, fs, H5P_DEFAULT, label) < 0;
            H5Sclose(ms);
            H5Sclose(fs);
            if (bad) {
                problem = "cannot read /score or /label (truncated file?)";
                goto out;
            }
            for (hsize_t i = 0; i < cnt; i++)
                score[i] = fscore[i];
            size_t nb = 0;
            if (metrics_runs_build(score, label, NULL, (size_t)cnt, blk, &nb) != HPCML_OK) {
                hpcml_error_clear();
                problem = "a score is NaN";
                goto out;
            }
            tmp = malloc((n_acc + nb) * sizeof *tmp);
            if (!tmp) {
                problem = "out of memory";
                goto out;
            }
            size_t nm = metrics_runs_merge(acc, n_acc, blk, nb, tmp);
            free(acc);
            acc = tmp;
            tmp = NULL;
            n_acc = nm;
        }
    out:
        if (ds_s >= 0) H5Dclose(ds_s);
        if (ds_l >= 0) H5Dclose(ds_l);
        if (f >= 0) H5Fclose(f);
        free(score);
        free(fscore);
        free(label);
        free(blk);
        if (problem) {
            free(acc);
            corrupt(in, "%s", problem);
            return 0;
        }
        *runs_out = acc;
        *n_out = n_acc;
    }
    H5E_END_TRY;
    return 1;
}

static void join(char *out, size_t n, const char *dir, const char *name)
{
    snprintf(out, n, "%s/%s", *dir ? dir : ".", name);
}

static void dir_of(char *out, size_t n, const char *path)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    snprintf(out, n, "%s", dirname(copy));
}

int report_write(const hpcml_config *cfg, const char *config_path, int *n_corrupt)
{
    enum { P = 4200 };
    char quality[P], journal_path[P], results[P], metrics[P], evaluation[P],
        predictions[P], prof[4][P];
    etl_side_path(cfg_str(cfg, "etl.output"), "quality.json", quality, P);
    const char *sweep_dir = cfg_str(cfg, "sweep.output_dir");
    join(journal_path, P, sweep_dir, JOURNAL_FILE);
    join(results, P, sweep_dir, "results.csv");
    const char *train_dir = cfg_str(cfg, "train.output_dir");
    join(metrics, P, train_dir, "metrics.jsonl");
    join(evaluation, P, train_dir, "evaluation.json");
    if (*cfg_str(cfg, "report.predictions"))
        snprintf(predictions, P, "%s", cfg_str(cfg, "report.predictions"));
    else
        join(predictions, P, train_dir, "predictions.h5");
    join(prof[0], P, cfg_str(cfg, "gen.output_dir"), "profile.json");
    etl_side_path(cfg_str(cfg, "etl.output"), "profile.json", prof[1], P);
    join(prof[2], P, train_dir, "profile.json");

    report_input in_q, in_j, in_r, in_m, in_e, in_p, in_d;
    set_input(&in_q, quality);
    set_input(&in_j, journal_path);
    set_input(&in_r, results);
    set_input(&in_m, metrics);
    set_input(&in_e, evaluation);
    set_input(&in_p, predictions);
    set_input(&in_d, cfg_str(cfg, "report.drift"));
    /* report.output never replaces a file the report reads (or the config, or the
     * dataset), under any name: path_guard.h. Decided before anything is read. */
    const char *const reads[] = {quality,     journal_path, results,     metrics,
                                 evaluation,  predictions,  in_d.path,   prof[0],
                                 prof[1],     prof[2],      config_path, cfg_str(cfg, "etl.output")};
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++)
        if (reads[i])
            HPCML_TRY(fs_refuse_overwrite(cfg_str(cfg, "report.output"), "report.output",
                                          reads[i], "a file the report reads"));

    json_t *q = load_json(&in_q, "hpcml-etl-quality");
    sweep_state st;
    int have_st = load_journal(&in_j, &st);
    json_t *rows = load_csv(&in_r);
    json_t *records = load_jsonl(&in_m);
    json_t *eval = load_json(&in_e, NULL);
    if (eval && !json_is_object(json_object_get(eval, "model"))) {
        corrupt(&in_e, "%s", "no \"model\" object (not hpcml-train's evaluation.json)");
        json_decref(eval);
        eval = NULL;
    }
    metrics_run *runs = NULL;
    size_t n_runs = 0;
    double threshold = 0.5;
    char split[64] = "";
    load_predictions(&in_p, &runs, &n_runs, &threshold, split, sizeof split);
    json_t *drift = load_json(&in_d, "hpcml-drift");
    if (drift && json_integer_value(json_object_get(drift, "version")) != 1) {
        corrupt(&in_d, "%s", "unsupported version (this hpcml-report reads version 1)");
        json_decref(drift);
        drift = NULL;
    }

    report_profile profiles[3] = {
        {.program = "hpcml-gen"}, {.program = "hpcml-etl"}, {.program = "hpcml-train"}};
    int np = 0;
    for (int i = 0; i < 3; i++) {
        if (i == 0 && !cfg_bool(cfg, "gen.enabled")) continue;
        profiles[np] = (report_profile){.program = profiles[i].program};
        set_input(&profiles[np].in, prof[i]);
        profiles[np].profile = load_json(&profiles[np].in, "hpcml-profile");
        np++;
    }

    svg_buf b;
    svg_buf_init(&b);
    report_page_begin(&b, cfg_str(cfg, "report.title"), config_path);
    report_section_data(&b, &in_q, q);
    report_section_sweep(&b, &in_j, have_st ? &st : NULL, &in_r, rows);
    report_section_training(&b, &in_m, records, &in_e, eval);
    report_section_evaluation(&b, &in_p, runs, n_runs, threshold, split);
    report_section_performance(&b, profiles, np, records);
    report_section_drift(&b, &in_d, drift);
    report_page_end(&b);
    char *html = svg_buf_take(&b);

    *n_corrupt = 0;
    const report_input *all[] = {&in_q, &in_j, &in_r, &in_m, &in_e, &in_p, &in_d};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        *n_corrupt += all[i]->state == INPUT_CORRUPT;
    for (int i = 0; i < np; i++) {
        *n_corrupt += profiles[i].in.state == INPUT_CORRUPT;
        json_decref(profiles[i].profile);
    }
    json_decref(q);
    json_decref(rows);
    json_decref(records);
    json_decref(eval);
    json_decref(drift);
    free(runs);
    if (have_st) sweep_state_free(&st);

    HPCML_CHECK(html, HPCML_EINTERNAL, "out of memory building the report");
    const char *out = cfg_str(cfg, "report.output");
    char out_dir[P];
    dir_of(out_dir, P, out);
    int rc = fs_mkdir_p(out_dir);
    if (rc == HPCML_OK) rc = atomic_write_text(out, html);
    free(html);
    return rc;
}
