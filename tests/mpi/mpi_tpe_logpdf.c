/* mpi_tpe_logpdf.c — the TPE Parzen estimator's log densities for the
 * parity test with Optuna (tests/scripts/test_sweep_tpe_parity.sh). No MPI:
 * it lives with the test helpers. Reads one JSON case per line on stdin:
 *   {"params":[{"kind":"float"|"discrete"|"categorical","log":b,"int":b,
 *               "low":x,"high":x,"q":x,"n_choices":n}],
 *    "multivariate":b,"obs":[[..],..],"points":[[..],..]}
 * and writes one line per case: {"log_pdf":[...]} (17 significant digits). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "sweep/tpe.h"

static double num(json_t *o, const char *k, double dflt)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

static int run_case(json_t *c)
{
    json_t *jp = json_object_get(c, "params"), *jo = json_object_get(c, "obs"),
           *jx = json_object_get(c, "points");
    int np = (int)json_array_size(jp), no = (int)json_array_size(jo), nx = (int)json_array_size(jx);
    tpe_param *p = calloc((size_t)np, sizeof *p);
    double *obs = calloc((size_t)(no * np + 1), sizeof *obs), *x = calloc((size_t)np, sizeof *x);
    for (int d = 0; d < np; d++) {
        json_t *e = json_array_get(jp, (size_t)d);
        const char *kind = json_string_value(json_object_get(e, "kind"));
        p[d].kind = !strcmp(kind, "categorical") ? TPE_CATEGORICAL
                    : !strcmp(kind, "discrete")  ? TPE_DISCRETE
                                                 : TPE_CONTINUOUS;
        p[d].log = json_is_true(json_object_get(e, "log"));
        p[d].is_int = json_is_true(json_object_get(e, "int"));
        p[d].low = num(e, "low", 0);
        p[d].high = num(e, "high", 0);
        p[d].q = num(e, "q", 0);
        p[d].n_choices = (int)num(e, "n_choices", 0);
    }
    for (int i = 0; i < no; i++)
        for (int d = 0; d < np; d++)
            obs[i * np + d] =
                json_number_value(json_array_get(json_array_get(jo, (size_t)i), (size_t)d));
    tpe_options o;
    tpe_options_default(&o);
    o.multivariate = json_is_true(json_object_get(c, "multivariate"));
    if (json_is_number(json_object_get(c, "prior_weight")))
        o.prior_weight = num(c, "prior_weight", 1);
    tpe_parzen pe;
    int rc = tpe_parzen_init(&pe, p, np, obs, no, &o);
    if (rc == HPCML_OK) {
        printf("{\"log_pdf\":[");
        for (int i = 0; i < nx; i++) {
            for (int d = 0; d < np; d++)
                x[d] = json_number_value(json_array_get(json_array_get(jx, (size_t)i), (size_t)d));
            double v = tpe_parzen_log_pdf(&pe, x);
            if (isinf(v))
                printf("%s\"%s\"", i ? "," : "", v < 0 ? "-inf" : "inf");
            else
                printf("%s%.17g", i ? "," : "", v);
        }
        printf("]}\n");
        tpe_parzen_free(&pe);
    }
    free(p);
    free(obs);
    free(x);
    return rc;
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        json_error_t err;
        json_t *c = json_loadb(line, (size_t)n, 0, &err);
        if (!c) {
            fprintf(stderr, "mpi_tpe_logpdf: bad case: %s\n", err.text);
            rc = 2;
            break;
        }
        if (run_case(c) != HPCML_OK) {
            fprintf(stderr, "mpi_tpe_logpdf: %s\n", hpcml_error_message());
            rc = 4;
        }
        json_decref(c);
    }
    free(line);
    return rc;
}
