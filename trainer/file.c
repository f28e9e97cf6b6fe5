/* file.c: whole-file reads (with transparent gzip) and atomic writes. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cli.h"

/* Reads the raw bytes of path. */
static ulm_status read_raw(const char *path, char **buf, size_t *len, ulm_diag *diag) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(diag->message, sizeof diag->message, "%s: %s", path, strerror(errno));
        return diag->status = ULM_ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        snprintf(diag->message, sizeof diag->message, "%s: %s", path, S_ISDIR(st.st_mode) ? "is a directory" : strerror(errno));
        close(fd);
        return diag->status = ULM_ERR_IO;
    }
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 65536, n = 0;
    char *p = malloc(cap);
    if (!p) {
        close(fd);
        return diag->status = ULM_ERR_NOMEM;
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *q = realloc(p, cap * 2);
            if (!q) {
                free(p);
                close(fd);
                return diag->status = ULM_ERR_NOMEM;
            }
            p = q;
            cap *= 2;
        }
        ssize_t r = read(fd, p + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR) continue;
            snprintf(diag->message, sizeof diag->message, "%s: %s", path, strerror(errno));
            free(p);
            close(fd);
            return diag->status = ULM_ERR_IO;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    p[n] = 0;
    *buf = p;
    *len = n;
    return ULM_OK;
}

/* Inflates every gzip member of in[0..n) into one new buffer. */
static ulm_status gunzip(const char *path, const unsigned char *in, size_t n, char **buf, size_t *len, ulm_diag *diag) {
    /* The last member's trailer holds its size mod 2^32: a good first guess for one member. */
    size_t cap = n * 4 + 1024;
    if (n >= 4) {
        uint32_t isize = (uint32_t)in[n - 4] | (uint32_t)in[n - 3] << 8 | (uint32_t)in[n - 2] << 16 | (uint32_t)in[n - 1] << 24;
        if ((size_t)isize + 1 > cap) cap = (size_t)isize + 1;
    }
    char *out = malloc(cap);
    if (!out) return diag->status = ULM_ERR_NOMEM;
    size_t used = 0, pos = 0;
    while (pos < n) {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        if (inflateInit2(&zs, 15 + 16) != Z_OK) {
            free(out);
            return diag->status = ULM_ERR_NOMEM;
        }
        int rc;
        do {
            if (cap - used < 65536 + 1) {
                char *q = realloc(out, cap * 2);
                if (!q) {
                    inflateEnd(&zs);
                    free(out);
                    return diag->status = ULM_ERR_NOMEM;
                }
                out = q;
                cap *= 2;
            }
            size_t in_left = n - pos;
            zs.next_in = (unsigned char *)in + pos;
            zs.avail_in = in_left > 0x40000000u ? 0x40000000u : (uInt)in_left;
            size_t out_room = cap - used - 1;
            zs.next_out = (unsigned char *)out + used;
            zs.avail_out = out_room > 0x40000000u ? 0x40000000u : (uInt)out_room;
            uInt before_in = zs.avail_in, before_out = zs.avail_out;
            rc = inflate(&zs, Z_NO_FLUSH);
            pos += before_in - zs.avail_in;
            used += before_out - zs.avail_out;
            if (rc == Z_BUF_ERROR && zs.avail_in == 0 && pos >= n) break;
        } while (rc == Z_OK || (rc == Z_BUF_ERROR && zs.avail_out == 0));
        inflateEnd(&zs);
        if (rc != Z_STREAM_END) {
            snprintf(diag->message, sizeof diag->message, "%s: corrupt gzip stream near compressed byte %zu (%s)", path,
                     pos, rc == Z_BUF_ERROR ? "unexpected end of data" : (zs.msg ? zs.msg : "inflate failed"));
            free(out);
            return diag->status = ULM_ERR_PARSE;
        }
        /* Skip zero padding some tools append after the last member. */
        while (pos < n && in[pos] == 0) pos++;
        if (pos < n && !(n - pos >= 2 && in[pos] == 0x1f && in[pos + 1] == 0x8b)) {
            snprintf(diag->message, sizeof diag->message, "%s: trailing garbage after gzip data at byte %zu", path, pos);
            free(out);
            return diag->status = ULM_ERR_PARSE;
        }
    }
    out[used] = 0;
    *buf = out;
    *len = used;
    return ULM_OK;
}

ulm_status ulm_file_read(const char *path, bool do_gunzip, char **buf, size_t *len, ulm_diag *diag) {
    ulm_diag local;
    if (!diag) diag = &local;
    memset(diag, 0, sizeof *diag);
    char *raw;
    size_t n;
    ulm_status s = read_raw(path, &raw, &n, diag);
    if (s != ULM_OK) return s;
    if (do_gunzip && n >= 2 && (unsigned char)raw[0] == 0x1f && (unsigned char)raw[1] == 0x8b) {
        s = gunzip(path, (const unsigned char *)raw, n, buf, len, diag);
        free(raw);
        return s;
    }
    *buf = raw;
    *len = n;
    return ULM_OK;
}

ulm_status ulm_file_write_atomic(const char *path, const void *buf, size_t len, ulm_diag *diag) {
    ulm_diag local;
    if (!diag) diag = &local;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp) return diag->status = ULM_ERR_NOMEM;
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        snprintf(diag->message, sizeof diag->message, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        return diag->status = ULM_ERR_IO;
    }
    const char *p = buf;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            snprintf(diag->message, sizeof diag->message, "cannot write %s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            free(tmp);
            return diag->status = ULM_ERR_IO;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        snprintf(diag->message, sizeof diag->message, "cannot flush %s: %s", tmp, strerror(errno));
        unlink(tmp);
        free(tmp);
        return diag->status = ULM_ERR_IO;
    }
    if (rename(tmp, path) != 0) {
        snprintf(diag->message, sizeof diag->message, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return diag->status = ULM_ERR_IO;
    }
    free(tmp);
    return ULM_OK;
}
