/* test_checkpoint_file.c — checkpoint files round-trip exactly, carry no
 * time stamps (same contents, same bytes), and a flipped byte, a truncated
 * file or a missing file is reported as corrupt (HPCML_EDATA / HPCML_EIO)
 * while a shape mismatch is a usage error (another model). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/status.h"
#include "io/checkpoint_file.h"

static char dir[] = "/tmp/hpcml-test-ckpt.XXXXXX";

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static int files_equal(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) same = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    float w[6] = {1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, -7.0f}, b[3] = {0.1f, 0.2f, 0.3f};
    int64_t step = 1234;
    double best = 0.987654321;
    ckpt_item items[] = {
        {"/model/layer0.weight", CKPT_F32, 2, {3, 2}, w},
        {"/model/layer0.bias", CKPT_F32, 1, {3, 0}, b},
        {"/state/global_step", CKPT_I64, 0, {0, 0}, &step},
        {"/state/best_metric", CKPT_F64, 0, {0, 0}, &best},
    };
    const int n = 4;
    char p1[256], p2[256];
    path_of(p1, sizeof p1, "a.h5");
    path_of(p2, sizeof p2, "b.h5");
    CHECK(ckpt_file_write(p1, items, n) == HPCML_OK);
    CHECK(ckpt_file_write(p2, items, n) == HPCML_OK);
    CHECK_MSG(files_equal(p1, p2), "two writes of the same contents differ (time stamps?)");

    /* round trip */
    float w2[6] = {0}, b2[3] = {0};
    int64_t step2 = 0;
    double best2 = 0;
    ckpt_item back[] = {
        {"/model/layer0.weight", CKPT_F32, 2, {3, 2}, w2},
        {"/model/layer0.bias", CKPT_F32, 1, {3, 0}, b2},
        {"/state/global_step", CKPT_I64, 0, {0, 0}, &step2},
        {"/state/best_metric", CKPT_F64, 0, {0, 0}, &best2},
    };
    CHECK(ckpt_file_read(p1, back, n) == HPCML_OK);
    CHECK(memcmp(w, w2, sizeof w) == 0 && memcmp(b, b2, sizeof b) == 0);
    CHECK(step2 == 1234 && best2 == best);
    CHECK(ckpt_items_checksum(items, n) == ckpt_items_checksum(back, n));

    /* another shape: a usage error, not corruption */
    ckpt_item wrong[] = {{"/model/layer0.weight", CKPT_F32, 2, {2, 3}, w2}};
    hpcml_error_clear();
    CHECK(ckpt_file_read(p1, wrong, 1) == HPCML_EUSAGE);
    ckpt_item missing[] = {{"/optimizer/m", CKPT_F32, 1, {6, 0}, w2}};
    hpcml_error_clear();
    CHECK(ckpt_file_read(p1, missing, 1) == HPCML_EUSAGE);

    /* flip one byte of the weights in the file: the checksum catches it */
    {
        FILE *fp = fopen(p2, "r+b");
        CHECK(fp != NULL);
        fseek(fp, 0, SEEK_END);
        long size = ftell(fp);
        unsigned char *buf = malloc((size_t)size);
        fseek(fp, 0, SEEK_SET);
        CHECK(fread(buf, 1, (size_t)size, fp) == (size_t)size);
        long at = -1;
        for (long i = 0; i + 4 <= size && at < 0; i++)
            if (memcmp(buf + i, &w[2], 4) == 0) at = i; /* 3.25f */
        CHECK(at >= 0);
        if (at >= 0) {
            buf[at] ^= 0x01;
            fseek(fp, 0, SEEK_SET);
            fwrite(buf, 1, (size_t)size, fp);
        }
        free(buf);
        fclose(fp);
        hpcml_error_clear();
        CHECK(ckpt_file_read(p2, back, n) == HPCML_EDATA);
        CHECK(strstr(hpcml_error_message(), "checksum") != NULL);
    }

    /* truncate: unreadable */
    {
        struct stat st;
        CHECK(stat(p1, &st) == 0);
        CHECK(truncate(p1, st.st_size / 2) == 0);
        hpcml_error_clear();
        CHECK(ckpt_file_read(p1, back, n) == HPCML_EDATA);
    }
    hpcml_error_clear();
    char p3[256];
    path_of(p3, sizeof p3, "none.h5");
    CHECK(ckpt_file_read(p3, back, n) == HPCML_EIO);
    hpcml_error_clear();

    unlink(p1);
    unlink(p2);
    rmdir(dir);
    CHECK_DONE();
}
