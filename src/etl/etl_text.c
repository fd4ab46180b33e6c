/* etl_text.c — see etl_text.h. */
#include "etl/etl_text.h"

#include <stdio.h>

/* Printable, quoted excerpt of a field for messages. */
void etl_excerpt(char *out, size_t n, const char *s, size_t len)
{
    size_t w = 0;
    size_t limit = len > 40 ? 40 : len;
    for (size_t i = 0; i < limit && w + 5 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            out[w++] = (char)c;
        else
            w += (size_t)snprintf(out + w, n - w, "\\x%02x", c);
    }
    if (len > limit && w + 4 < n) w += (size_t)snprintf(out + w, n - w, "...");
    out[w < n ? w : n - 1] = '\0';
}
