/* synth_format.c: CSV lines of `ulm synth` events, written by hand (no printf per field): this loop
 * formats every byte of a multi-gigabyte log. */
#include <string.h>

#include "synth.h"

const char ulm_synth_header[] = "user,item,time,event,quantity,price,order,query\n";

static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                     "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                     "8081828384858687888990919293949596979899";

/* Writes v in decimal at p and returns the end; digits are produced two at a time, right to left. */
static inline char *put_u32(char *p, uint32_t v) {
    char tmp[12];
    char *e = tmp + sizeof tmp, *q = e;
    while (v >= 100) {
        uint32_t k = v % 100;
        v /= 100;
        q -= 2;
        memcpy(q, digit_pairs + 2 * k, 2);
    }
    if (v >= 10) {
        q -= 2;
        memcpy(q, digit_pairs + 2 * v, 2);
    } else {
        *--q = (char)('0' + v);
    }
    size_t n = (size_t)(e - q);
    memcpy(p, q, n);
    return p + n;
}

/* Writes cents as units with two decimals ("12.99"). */
static inline char *put_price(char *p, uint32_t cents) {
    p = put_u32(p, cents / 100);
    *p++ = '.';
    memcpy(p, digit_pairs + 2 * (cents % 100), 2);
    return p + 2;
}

/* Writes ",word word word" for a packed query (word ids one per byte, low byte first). */
static inline char *put_query(char *p, uint32_t q) {
    bool first = true;
    for (int k = 0; k < ULM_SYNTH_QUERY_WORDS; k++) {
        uint32_t id = (q >> (8 * k)) & 0xFF;
        if (!id) break;
        const char *s = ulm_synth_word(id);
        size_t n = strlen(s);
        if (!first) *p++ = ' ';
        memcpy(p, s, n);
        p += n;
        first = false;
    }
    return p;
}

/* ",view," and friends: the event column with its separators. */
static const struct {
    char s[16]; /* padded so one fixed-size copy moves it */
    size_t n;
} type_field[5] = {{",view,", 6}, {",cart,", 6}, {",purchase,", 10}, {",return,", 8}, {",search,", 8}};

size_t ulm_synth_format(const ulm_synth_world *w, uint32_t d, const ulm_synth_ev *ev, size_t n, char *out) {
    char *p = out;
    const char *prefix = w->day_prefix[d];
    unsigned day_pct = w->price_pct[d];
    for (size_t i = 0; i < n; i++) {
        const ulm_synth_ev *e = &ev[i];
        uint32_t sec = e->key & 0x1FFFF, type = (e->key >> 17) & 7, qty = e->key >> 20;
        *p++ = 'u';
        p = put_u32(p, e->user + 1);
        *p++ = ',';
        if (type != ULM_EV_SEARCH) {
            *p++ = 'i';
            p = put_u32(p, e->item + 1);
        }
        *p++ = ',';
        memcpy(p, prefix, 11);
        p += 11;
        uint32_t hh = sec / 3600, mm = sec / 60 % 60, ss = sec % 60;
        memcpy(p, digit_pairs + 2 * hh, 2);
        p[2] = ':';
        memcpy(p + 3, digit_pairs + 2 * mm, 2);
        p[5] = ':';
        memcpy(p + 6, digit_pairs + 2 * ss, 2);
        p[8] = 'Z';
        p += 9;
        memcpy(p, type_field[type].s, 16);
        p += type_field[type].n;
        if (type == ULM_EV_SEARCH) {
            memcpy(p, ",,,", 3);
            p = put_query(p + 3, e->item);
        } else {
            if (qty) p = put_u32(p, qty);
            *p++ = ',';
            uint32_t cents = w->price_cents[e->item], paid = e->order >> ULM_SYNTH_ORDER_BITS;
            unsigned pct = paid ? paid : day_pct;
            if (pct != 100) cents = (uint32_t)(((uint64_t)cents * pct + 50) / 100);
            p = put_price(p, cents);
            *p++ = ',';
            if (e->order & ULM_SYNTH_ORDER_MASK) {
                *p++ = 'o';
                p = put_u32(p, e->user + 1);
                *p++ = '-';
                p = put_u32(p, e->order & ULM_SYNTH_ORDER_MASK);
            }
            *p++ = ',';
        }
        *p++ = '\n';
    }
    return (size_t)(p - out);
}

size_t ulm_synth_item_name(const ulm_synth_world *w, uint32_t i, char *out) {
    const ulm_synth_item *it = &w->items[i];
    const char *a = ulm_synth_word(it->adj), *m = ulm_synth_word(it->mat);
    const char *c = w->cats[it->cat].name;
    char *p = out;
    size_t n = strlen(a);
    memcpy(p, a, n);
    p += n;
    *p++ = ' ';
    n = strlen(m);
    memcpy(p, m, n);
    p += n;
    *p++ = ' ';
    n = strlen(c);
    memcpy(p, c, n);
    p += n;
    *p++ = ' ';
    p = put_u32(p, it->serial);
    *p = 0;
    return (size_t)(p - out);
}
