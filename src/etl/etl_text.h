/* etl_text.h — the checks every reader of CSV text makes on field and
 * header text (valid UTF-8, a skip prefix) and the printable excerpt of a
 * field that messages quote. Pure. */
#ifndef HPCML_ETL_TEXT_H
#define HPCML_ETL_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Printable excerpt of s[0..len) (at most 40 bytes, \xNN escapes) into out. */
void etl_excerpt(char *out, size_t n, const char *s, size_t len);

/* Valid UTF-8 without NUL bytes (text fields and column names). */
static inline int etl_valid_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned char c = *p;
        if (c < 0x80) {
            if (c == 0) return 0;
            p++;
            continue;
        }
        int k;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0)
            k = 1, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0)
            k = 2, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0)
            k = 3, cp = c & 0x07;
        else
            return 0;
        if (end - p <= k) return 0;
        for (int i = 1; i <= k; i++) {
            if ((p[i] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        p += k + 1;
    }
    return 1;
}

/* buf starts with prefix (an empty prefix never matches: "no prefix"). */
static inline int etl_starts_with(const char *buf, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return n > 0 && len >= n && memcmp(buf, prefix, n) == 0;
}

#endif
