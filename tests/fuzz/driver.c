/* driver.c: a deterministic stand-in for libFuzzer, so ctest can smoke-run a fuzz target with
 * gcc + ASan. Usage: fuzz_smoke SEED_FILE ITERATIONS. Each iteration mutates the seed (bit flips,
 * byte overwrites, truncation, a spliced random block, section-table edits) and calls the target. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* xorshift64*: fixed seed, so a failure reproduces with the same iteration number. */
static uint64_t next(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s SEED_FILE ITERATIONS\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    uint8_t *seed = NULL;
    size_t n = 0, cap = 0;
    for (int c; (c = fgetc(f)) != EOF;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            seed = realloc(seed, cap);
        }
        seed[n++] = (uint8_t)c;
    }
    fclose(f);
    long iters = atol(argv[2]);
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    LLVMFuzzerTestOneInput(seed, n); /* the seed itself must pass */
    uint8_t *buf = malloc(n + 64);
    for (long it = 0; it < iters; it++) {
        size_t len = n;
        memcpy(buf, seed, n);
        int edits = 1 + (int)(next(&rng) % 4);
        for (int e = 0; e < edits && len; e++) {
            size_t pos = next(&rng) % len;
            switch (next(&rng) % 5) {
            case 0: buf[pos] ^= (uint8_t)(1u << (next(&rng) % 8)); break;
            case 1: buf[pos] = (uint8_t)next(&rng); break;
            case 2: len = pos; break;
            case 3: /* a random block */
                for (size_t k = pos; k < len && k < pos + 16; k++) buf[k] = (uint8_t)next(&rng);
                break;
            default: { /* a field of one of the first table entries, where lengths and offsets live */
                size_t off = 64 + (size_t)(next(&rng) % 40) + 40 * (size_t)(next(&rng) % 4);
                if (off < len) buf[off] ^= (uint8_t)(1u << (next(&rng) % 8));
            }
            }
        }
        /* Exact-size copy so ASan catches any read past the end. */
        uint8_t *exact = malloc(len ? len : 1);
        memcpy(exact, buf, len);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
    }
    free(buf);
    free(seed);
    printf("fuzz smoke: %ld mutated inputs, no crash\n", iters);
    return 0;
}
