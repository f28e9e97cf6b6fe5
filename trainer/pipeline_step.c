/* pipeline_step.c: the steps of `ulm pipeline` as child processes of this binary, and the run's log lines. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pipeline.h"

/* The child's error message from its log: the first line that starts "ulm " or "ulm:" (the command's first
 * complaint) and the last non-empty line, joined by " / " when they differ. */
static void last_line(const char *log_path, char *out, size_t outlen) {
    out[0] = 0;
    FILE *f = fopen(log_path, "rb");
    if (!f) return;
    char line[1024], first[1024] = "", last[1024] = "";
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (!n) continue;
        if (!first[0] && (!strncmp(line, "ulm ", 4) || !strncmp(line, "ulm:", 4))) memcpy(first, line, n + 1);
        memcpy(last, line, n + 1);
    }
    fclose(f);
    if (first[0] && strcmp(first, last)) snprintf(out, outlen, "%.200s / %.200s", first, last);
    else snprintf(out, outlen, "%.400s", last);
}

bool ulm_pipe_run_child(const char *name, char *const *argv, const char *out_path, const char *log_path,
                        ulm_pipe_step *st) {
    memset(st, 0, sizeof *st);
    snprintf(st->name, sizeof st->name, "%s", name);
    double t0 = ulm_now();
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(st->reason, sizeof st->reason, "cannot start the step: %s", strerror(errno));
        st->exit_code = -1;
        return false;
    }
    if (pid == 0) {
        /* The step dies with the pipeline: a killed run leaves no writer behind. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(137);
        /* A fresh inode: never truncate a file that is hard-linked from the live run. */
        if (out_path) unlink(out_path);
        int out = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(126);
        close(out), close(err);
        execv("/proc/self/exe", argv);
        fprintf(stderr, "ulm pipeline: cannot run /proc/self/exe: %s\n", strerror(errno));
        _exit(127);
    }
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    st->seconds = ulm_now() - t0;
    st->exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
    if (st->exit_code != 0) {
        char ll[448];
        last_line(log_path, ll, sizeof ll);
        if (WIFSIGNALED(ws))
            snprintf(st->reason, sizeof st->reason, "step %s killed by signal %d%s%.440s", name, WTERMSIG(ws), ll[0] ? ": " : "", ll);
        else
            snprintf(st->reason, sizeof st->reason, "step %s exited %d: %.440s", name, st->exit_code, ll[0] ? ll : "(no message)");
    }
    return st->exit_code == 0;
}

void ulm_pipe_logf(ulm_pipe_log *lg, const char *step, const char *status, double seconds, const char *extra_json,
                   const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (lg->json) {
        char ts[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        ulm_sb b = {0};
        ulm_sb_printf(&b, "{\"ts\":\"%s\",\"run\":", ts);
        ulm_sb_json_str(&b, lg->run_id ? lg->run_id : "", strlen(lg->run_id ? lg->run_id : ""));
        ulm_sb_printf(&b, ",\"step\":\"%s\",\"status\":\"%s\",\"seconds\":%.3f,\"message\":", step, status, seconds);
        ulm_sb_json_str(&b, msg, strlen(msg));
        ulm_sb_printf(&b, "%s%s}\n", extra_json ? "," : "", extra_json ? extra_json : "");
        if (b.s) fputs(b.s, stderr);
        ulm_sb_free(&b);
    } else {
        if (lg->bar.tty) fputs("\r\033[K", stderr);
        fprintf(stderr, "ulm pipeline: %-10s %-8s %7.2f s  %s\n", step, status, seconds, msg);
    }
    fflush(stderr);
}
