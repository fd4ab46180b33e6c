/* mpi_train_steps.c — test helper (no MPI needed): K training steps of the
 * MLP on batches written by tests/scripts/test_torch_equiv.sh, which runs
 * the same steps with torch.nn and compares losses and final weights.
 *
 *   mpi_train_steps DIR OUT OPT LR WD MOMENTUM NESTEROV CLIP SHARDS
 *
 * DIR/meta.txt  "n_inputs n_classes rows steps act n_hidden h1 h2 ..."
 *               (act: 0 none, 1 relu, 2 gelu)
 * DIR/init.f32  initial parameters, flat, torch's parameters() order
 * DIR/x.f32     steps * rows * n_inputs float32 (little-endian)
 * DIR/y.i32     steps * rows int32 labels
 * DIR/cw.f32    n_classes class weights
 * OPT is sgd, adam or adamw; CLIP > 0 clips the global gradient norm.
 * Each batch is cut into SHARDS contiguous pieces processed one after the
 * other with gradient accumulation and the global class-weight sum as the
 * scale: the arithmetic of SHARDS ranks followed by an allreduce.
 * Writes OUT.loss (one mean loss per step, text) and OUT.params.f32. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "nn/mlp.h"
#include "nn/optim.h"

static int read_exact(const char *dir, const char *name, void *buf, size_t bytes) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    HPCML_CHECK(f != NULL, HPCML_EIO, "cannot open %s", path);
    size_t got = fread(buf, 1, bytes, f);
    fclose(f);
    HPCML_CHECK(got == bytes, HPCML_EIO, "%s: read %zu of %zu bytes", path, got, bytes);
    return HPCML_OK;
}

static int run(int argc, char **argv) {
    HPCML_CHECK(argc == 10, HPCML_EUSAGE,
                "usage: %s DIR OUT OPT LR WD MOMENTUM NESTEROV CLIP SHARDS", argv[0]);
    const char *dir = argv[1], *out = argv[2], *opt = argv[3];
    const double lr = atof(argv[4]), wd = atof(argv[5]), momentum = atof(argv[6]);
    const int nesterov = atoi(argv[7]), shards = atoi(argv[9]);
    const double clip = atof(argv[8]);

    char path[4096];
    snprintf(path, sizeof path, "%s/meta.txt", dir);
    FILE *f = fopen(path, "r");
    HPCML_CHECK(f != NULL, HPCML_EIO, "cannot open %s", path);
    mlp_shape shape;
    memset(&shape, 0, sizeof shape);
    int rows = 0, steps = 0, act = 0, ok = 1;
    ok = fscanf(f, "%d %d %d %d %d %d", &shape.n_inputs, &shape.n_classes, &rows, &steps, &act,
                &shape.n_hidden) == 6;
    for (int i = 0; ok && i < shape.n_hidden && i < MLP_MAX_HIDDEN; i++)
        ok = fscanf(f, "%d", &shape.hidden[i]) == 1;
    fclose(f);
    HPCML_CHECK(ok && rows > 0 && steps > 0 && shards >= 1 && shards <= rows, HPCML_EDATA,
                "%s: bad meta line", path);
    shape.act = (nn_activation)act;

    nn_optim_config cfg;
    if (strcmp(opt, "sgd") == 0) {
        cfg = nn_optim_defaults(NN_OPT_SGD);
        cfg.momentum = momentum;
        cfg.nesterov = nesterov;
    } else if (strcmp(opt, "adam") == 0) {
        cfg = nn_optim_defaults(NN_OPT_ADAM);
    } else if (strcmp(opt, "adamw") == 0) {
        cfg = nn_optim_defaults(NN_OPT_ADAMW);
    } else {
        return HPCML_FAIL(HPCML_EUSAGE, "unknown optimizer '%s'", opt);
    }
    cfg.weight_decay = wd;

    const nn_backend *be = &nn_backend_cpu;
    mlp m;
    nn_optim o;
    memset(&o, 0, sizeof o);
    HPCML_TRY(mlp_create(&m, be, &shape, rows));
    int rc = HPCML_OK;
    const size_t nx = (size_t)steps * rows * shape.n_inputs, ny = (size_t)steps * rows;
    float *x = malloc(nx * sizeof *x), *cw = malloc(shape.n_classes * sizeof *cw);
    float *params = malloc(m.n_params * sizeof *params);
    int32_t *y = malloc(ny * sizeof *y);
    double *losses = malloc(steps * sizeof *losses);
    if (!x || !cw || !params || !y || !losses) {
        rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
        goto done;
    }
    HPCML_TRY_GOTO(rc, read_exact(dir, "init.f32", params, m.n_params * sizeof *params), done);
    HPCML_TRY_GOTO(rc, read_exact(dir, "x.f32", x, nx * sizeof *x), done);
    HPCML_TRY_GOTO(rc, read_exact(dir, "y.i32", y, ny * sizeof *y), done);
    HPCML_TRY_GOTO(rc, read_exact(dir, "cw.f32", cw, shape.n_classes * sizeof *cw), done);
    HPCML_TRY_GOTO(rc, mlp_set_params(&m, params), done);
    HPCML_TRY_GOTO(rc, optim_create(&o, be, m.n_params, &cfg), done);

    for (int t = 0; t < steps; t++) {
        const float *xb = x + (size_t)t * rows * shape.n_inputs;
        const int32_t *yb = y + (size_t)t * rows;
        /* the global weight sum: what allreduce_sum_f64 of the shards'
         * weight sums gives the trainer */
        double wsum = 0;
        for (int r = 0; r < rows; r++) wsum += cw[yb[r]];
        HPCML_TRY_GOTO(rc, be->allreduce_sum_f64(&wsum, 1, be->comm_ctx), done);
        double loss_sum = 0;
        for (int s = 0; s < shards; s++) {
            int lo = rows * s / shards, hi = rows * (s + 1) / shards;
            double ls, ws;
            HPCML_TRY_GOTO(rc, mlp_forward(&m, xb + (size_t)lo * shape.n_inputs, hi - lo, NULL),
                           done);
            HPCML_TRY_GOTO(rc, mlp_loss_forward(&m, yb + lo, cw, hi - lo, &ls, &ws), done);
            HPCML_TRY_GOTO(rc, mlp_loss_backward(&m, yb + lo, cw, hi - lo, (float)(1.0 / wsum)),
                           done);
            HPCML_TRY_GOTO(rc, mlp_backward(&m, xb + (size_t)lo * shape.n_inputs, hi - lo,
                                            m.dlogits, s > 0),
                           done);
            loss_sum += ls;
        }
        losses[t] = loss_sum / wsum;
        HPCML_TRY_GOTO(rc, be->allreduce_sum(m.grads, m.n_params, be->comm_ctx), done);
        if (clip > 0)
            HPCML_TRY_GOTO(rc, optim_clip_grad_norm(be, m.grads, m.n_params, clip, NULL), done);
        HPCML_TRY_GOTO(rc, optim_step(&o, m.params, m.grads, lr), done);
    }

    HPCML_TRY_GOTO(rc, mlp_get_params(&m, params), done);
    snprintf(path, sizeof path, "%s.params.f32", out);
    f = fopen(path, "wb");
    if (!f || fwrite(params, sizeof *params, m.n_params, f) != m.n_params) {
        rc = HPCML_FAIL(HPCML_EIO, "cannot write %s", path);
        if (f) fclose(f);
        goto done;
    }
    fclose(f);
    snprintf(path, sizeof path, "%s.loss", out);
    f = fopen(path, "w");
    if (!f) {
        rc = HPCML_FAIL(HPCML_EIO, "cannot write %s", path);
        goto done;
    }
    for (int t = 0; t < steps; t++) fprintf(f, "%.9g\n", losses[t]);
    fclose(f);
done:
    free(x), free(cw), free(params), free(y), free(losses);
    optim_destroy(&o);
    mlp_destroy(&m);
    return rc;
}

int main(int argc, char **argv) {
    int rc = run(argc, argv);
    if (rc != HPCML_OK) fprintf(stderr, "mpi_train_steps: %s (%s)\n", hpcml_error_message(),
                                hpcml_error_where());
    return rc;
}
