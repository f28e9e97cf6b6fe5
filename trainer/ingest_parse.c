/* ingest_parse.c: the value parsers of ingestion: timestamps, numbers, UTF-8 checks.
 * All of them take a slice (no NUL needed), accept only a whole-field match, use no locale
 * and never allocate: they run once or more per row of multi-million-row logs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"

/* Days in month m of year y, to reject dates like 2011-02-30. */
static unsigned month_days(int64_t y, unsigned m) {
    static const unsigned char dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dm[m - 1];
}

/* Reads exactly n digits at s[*i] into *v; the fixed widths of ISO dates. */
static bool digits_n(const char *s, size_t len, size_t *i, int n, unsigned *v) {
    if (*i + (size_t)n > len) return false;
    unsigned x = 0;
    for (int k = 0; k < n; k++) {
        unsigned c = (unsigned char)s[*i + k] - '0';
        if (c > 9) return false;
        x = x * 10 + c;
    }
    *i += (size_t)n;
    *v = x;
    return true;
}

/* Reads 1..max digits at s[*i]: the variable widths of M/D/YYYY H:MM. */
static bool digits_var(const char *s, size_t len, size_t *i, int max, unsigned *v) {
    unsigned x = 0;
    int k = 0;
    while (*i < len && k < max && (unsigned char)(s[*i] - '0') <= 9) {
        x = x * 10 + (unsigned)(s[*i] - '0');
        (*i)++;
        k++;
    }
    if (k == 0) return false;
    *v = x;
    return true;
}

/* Combines checked calendar parts into Unix seconds. */
static bool assemble(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned sec, int64_t offset,
                     int64_t *out) {
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 || sec > 60) return false;
    *out = ulm_days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec - offset;
    return true;
}

/* Parses an optional UTC designator or offset at s[i..len): "", "Z", "+hh", "+hh:mm", "+hhmm",
 * " UTC"; one space may come first. *offset gets seconds east of UTC. */
static bool parse_zone(const char *s, size_t len, size_t i, int64_t *offset) {
    *offset = 0;
    if (i == len) return true;
    if (s[i] == ' ' && i + 1 < len) i++;
    if (len - i == 1 && (s[i] == 'Z' || s[i] == 'z')) return true;
    if (len - i == 3 && memcmp(s + i, "UTC", 3) == 0) return true;
    if (s[i] != '+' && s[i] != '-') return false;
    int sign = s[i] == '-' ? -1 : 1;
    i++;
    unsigned hh, mm = 0;
    if (!digits_n(s, len, &i, 2, &hh)) return false;
    if (i < len && s[i] == ':') i++;
    if (i < len && !digits_n(s, len, &i, 2, &mm)) return false;
    if (i != len || hh > 23 || mm > 59) return false;
    *offset = sign * ((int64_t)hh * 3600 + (int64_t)mm * 60);
    return true;
}

/* ISO-8601: YYYY-MM-DD[(T| )HH:MM[:SS[.frac]]][zone]. */
static bool parse_iso(const char *s, size_t len, int64_t *out) {
    size_t i = 0;
    unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (!digits_n(s, len, &i, 4, &y) || i >= len || s[i++] != '-' || !digits_n(s, len, &i, 2, &mo) || i >= len ||
        s[i++] != '-' || !digits_n(s, len, &i, 2, &d))
        return false;
    int64_t off = 0;
    if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ') && i + 1 < len && (unsigned char)(s[i + 1] - '0') <= 9) {
        i++;
        if (!digits_n(s, len, &i, 2, &h) || i >= len || s[i++] != ':' || !digits_n(s, len, &i, 2, &mi)) return false;
        if (i < len && s[i] == ':') {
            i++;
            if (!digits_n(s, len, &i, 2, &sec)) return false;
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                size_t f0 = ++i;
                while (i < len && (unsigned char)(s[i] - '0') <= 9)
                    i++;
                if (i == f0) return false;
            }
        }
    }
    if (!parse_zone(s, len, i, &off)) return false;
    return assemble(y, mo, d, h, mi, sec, off, out);
}

/* US style: M/D/YYYY[ H:MM[:SS][ AM|PM]]. */
static bool parse_us(const char *s, size_t len, int64_t *out) {
    size_t i = 0;
    unsigned mo = 0, d = 0, y = 0, h = 0, mi = 0, sec = 0;
    if (!digits_var(s, len, &i, 2, &mo) || i >= len || s[i++] != '/' || !digits_var(s, len, &i, 2, &d) || i >= len ||
        s[i++] != '/' || !digits_n(s, len, &i, 4, &y))
        return false;
    if (i < len) {
        if (s[i++] != ' ') return false;
        if (!digits_var(s, len, &i, 2, &h) || i >= len || s[i++] != ':' || !digits_n(s, len, &i, 2, &mi)) return false;
        if (i < len && s[i] == ':') {
            i++;
            if (!digits_n(s, len, &i, 2, &sec)) return false;
        }
        if (i < len) {
            if (s[i] == ' ') i++;
            if (len - i != 2 || (s[i + 1] != 'M' && s[i + 1] != 'm')) return false;
            char ap = s[i];
            if (h < 1 || h > 12) return false;
            if (ap == 'A' || ap == 'a')
                h = h == 12 ? 0 : h;
            else if (ap == 'P' || ap == 'p')
                h = h == 12 ? 12 : h + 12;
            else
                return false;
            i = len;
        }
    }
    return assemble(y, mo, d, h, mi, sec, 0, out);
}

/* All-digit Unix time, seconds or (above 1e11) milliseconds, optionally with a fraction. */
static bool parse_unix(const char *s, size_t len, int64_t *out) {
    size_t i = 0;
    uint64_t v = 0;
    while (i < len && (unsigned char)(s[i] - '0') <= 9) {
        if (i >= 18) return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
        i++;
    }
    if (i == 0) return false;
    if (i < len) {
        if (s[i] != '.' || i + 1 == len) return false;
        for (size_t k = i + 1; k < len; k++)
            if ((unsigned char)(s[k] - '0') > 9) return false;
    }
    *out = v > 100000000000ull ? (int64_t)(v / 1000) : (int64_t)v;
    return true;
}

bool ulm_parse_time(const char *s, size_t len, int64_t *out) {
    if (len < 1) return false;
    if (len >= 10 && s[4] == '-') return parse_iso(s, len, out);
    if (len >= 8 && (s[1] == '/' || s[2] == '/')) return parse_us(s, len, out);
    return parse_unix(s, len, out);
}

/* Exact powers of ten a double holds (1e0..1e22): m * 10^e is then correctly rounded. */
static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                       1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

bool ulm_parse_number(const char *s, size_t len, double *out) {
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    uint64_t m = 0;
    int ndig = 0, exp10 = 0, nsig = 0;
    bool exact = true;
    while (i < len && (unsigned char)(s[i] - '0') <= 9) {
        if (nsig < 19) {
            m = m * 10 + (uint64_t)(s[i] - '0');
            if (m) nsig++;
        } else {
            exp10++;
            exact = false;
        }
        ndig++;
        i++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && (unsigned char)(s[i] - '0') <= 9) {
            if (nsig < 19) {
                m = m * 10 + (uint64_t)(s[i] - '0');
                if (m) nsig++;
                exp10--;
            } else {
                exact = false;
            }
            ndig++;
            i++;
        }
    }
    if (ndig == 0) return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int esign = 1, e = 0, edig = 0;
        if (i < len && (s[i] == '+' || s[i] == '-')) esign = s[i++] == '-' ? -1 : 1;
        while (i < len && (unsigned char)(s[i] - '0') <= 9) {
            if (e < 100000) e = e * 10 + (s[i] - '0');
            edig++;
            i++;
        }
        if (edig == 0) return false;
        exp10 += esign * e;
    }
    if (i != len) return false;
    double v;
    if (exact && m <= (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        v = (double)m;
        v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
    } else {
        /* Rare long or extreme numbers: the syntax is already checked, so strtod sees a clean copy. */
        char tmp[128];
        if (len >= sizeof tmp) return false;
        memcpy(tmp, s, len);
        tmp[len] = 0;
        v = fabs(strtod(tmp, NULL)); /* the sign is applied below, as on the fast path */
    }
    if (neg) v = -v;
    if (!isfinite(v)) return false;
    *out = v;
    return true;
}

