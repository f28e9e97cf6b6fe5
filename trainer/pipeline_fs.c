/* pipeline_fs.c: the file-system moves of `ulm pipeline`: checksums, links, fsync, the lock, tree removal. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline.h"

char *ulm_pipe_join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/%s", a, b);
    return s;
}

bool ulm_pipe_file_sum(const char *path, uint64_t *size, uint32_t *crc, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0) return snprintf(err, errlen, "%s: %s", path, strerror(errno)), false;
    if (!S_ISREG(st.st_mode)) return snprintf(err, errlen, "%s: not a regular file", path), false;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno)), false;
    static const size_t chunk = 1u << 20;
    char *buf = malloc(chunk);
    uint32_t c = 0;
    uint64_t n = 0;
    ssize_t r = 0;
    while (buf && (r = read(fd, buf, chunk)) != 0) {
        if (r < 0) {
            if (errno == EINTR) continue;
            break;
        }
        c = ulm_crc32c(c, buf, (size_t)r);
        n += (uint64_t)r;
    }
    bool ok = buf && r == 0;
    if (!ok) snprintf(err, errlen, "%s: cannot read: %s", path, buf ? strerror(errno) : "out of memory");
    free(buf);
    close(fd);
    *size = n, *crc = c;
    return ok;
}

bool ulm_pipe_fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return false;
    bool ok = fsync(fd) == 0;
    close(fd);
    return ok;
}

bool ulm_pipe_rmtree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT;
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = ulm_pipe_join(dir, e->d_name);
        struct stat st;
        if (!p) ok = false;
        else if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) ok = ulm_pipe_rmtree(p);
        else ok = unlink(p) == 0 || errno == ENOENT;
        free(p);
    }
    closedir(d);
    return ok && (rmdir(dir) == 0 || errno == ENOENT);
}

bool ulm_pipe_switch_link(const char *dir, const char *link, const char *target) {
    char *tmp = malloc(strlen(dir) + strlen(link) + 40), *dst = ulm_pipe_join(dir, link);
    bool ok = tmp && dst;
    if (ok) {
        sprintf(tmp, "%s/.%s.tmp.%ld", dir, link, (long)getpid());
        unlink(tmp);
        ok = symlink(target, tmp) == 0 && rename(tmp, dst) == 0;
        if (!ok) unlink(tmp);
        ok = ok && ulm_pipe_fsync_dir(dir);
    }
    free(tmp);
    free(dst);
    return ok;
}

bool ulm_pipe_link_or_copy(const char *src, const char *dst) {
    if (link(src, dst) == 0) return true;
    char *buf = NULL;
    size_t len = 0;
    ulm_diag d;
    if (ulm_file_read(src, false, &buf, &len, &d) != ULM_OK) return false;
    bool ok = ulm_file_write_atomic(dst, buf, len, &d) == ULM_OK;
    free(buf);
    return ok;
}

int ulm_pipe_lock(const char *runs, uint64_t wait_s) {
    char *p = ulm_pipe_join(runs, ".lock");
    if (!p) return -1;
    /* Not O_CLOEXEC: the steps inherit the lock, so a step that outlives a killed pipeline still holds it. */
    int fd = open(p, O_RDWR | O_CREAT, 0644);
    free(p);
    if (fd < 0) return -1;
    double until = ulm_now() + (double)wait_s;
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK || ulm_now() >= until) {
            close(fd);
            return -1;
        }
        usleep(100 * 1000);
    }
    return fd;
}
