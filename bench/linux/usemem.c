// usemem.c - the BatchSwap "usemem" load, native, for running under the kernel's own zswap.
//
// W worker processes (fork) each map S bytes of anonymous memory, fill page i with page
// (w*7919 + i) mod N of a page source, then make P verification passes in seq or rand
// order (xorshift64, seed 88172645463325252 + w, seeded once per worker and continued
// across passes), counting mismatches. See /work/shared/docs/workloads.md.
//
// The parent loads the page source (outside any limited cgroup) and forks the workers;
// each worker writes its own pid into <cgroup>/cgroup.procs before touching its region,
// so only the workers' regions are charged to the limited cgroup. The source is shared
// copy-on-write from the parent and only read.
//
// Output: one JSON line on stdout.
//
// Build: gcc -O2 -Wall -o usemem usemem.c

#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define MAX_WORKERS 256

struct worker_result {
    double fill_s;
    double pass_s;
    uint64_t mismatches;
    int done;
};

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "usemem: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// "512MiB", "512M", "1g", "4096" -> bytes
static uint64_t parse_size(const char *s) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0) die("bad size '%s'", s);
    while (*end == ' ') end++;
    uint64_t mul = 1;
    switch (toupper((unsigned char)*end)) {
    case 0: mul = 1; break;
    case 'K': mul = 1ULL << 10; break;
    case 'M': mul = 1ULL << 20; break;
    case 'G': mul = 1ULL << 30; break;
    case 'T': mul = 1ULL << 40; break;
    case 'B': mul = 1; break;
    default: die("bad size suffix in '%s'", s);
    }
    if (*end) {
        end++;
        if (*end == 'i' || *end == 'I') end++;
        if (*end == 'B' || *end == 'b') end++;
        if (*end) die("bad size suffix in '%s'", s);
    }
    return (uint64_t)(v * (double)mul);
}

// Whole file into anonymous memory. ".zst" files are decompressed through the zstd CLI.
static unsigned char *load_pages(const char *path, uint64_t *npages) {
    size_t len = strlen(path);
    FILE *f;
    int is_zst = len > 4 && strcmp(path + len - 4, ".zst") == 0;
    if (is_zst) {
        char cmd[4096 + 64];
        if (strchr(path, '\'')) die("page file path must not contain a quote");
        snprintf(cmd, sizeof cmd, "zstd -dc -- '%s'", path);
        f = popen(cmd, "r");
    } else {
        f = fopen(path, "rb");
    }
    if (!f) die("cannot open %s: %s", path, strerror(errno));
    size_t cap = 64UL << 20, used = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) die("out of memory");
    for (;;) {
        if (used == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) die("out of memory");
        }
        size_t r = fread(buf + used, 1, cap - used, f);
        used += r;
        if (r == 0) break;
    }
    int bad = ferror(f);
    int rc = is_zst ? pclose(f) : fclose(f);
    if (bad || rc != 0) die("reading %s failed", path);
    if (used < PAGE) die("%s holds no full page", path);
    if (used % PAGE) fprintf(stderr, "usemem: warning: %s has %zu trailing bytes, ignored\n", path, used % PAGE);
    *npages = used / PAGE;
    // Page-aligned copy, so the source is laid out exactly like the regions.
    unsigned char *src = mmap(NULL, *npages * PAGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (src == MAP_FAILED) die("mmap source: %s", strerror(errno));
    madvise(src, *npages * PAGE, MADV_NOHUGEPAGE);
    memcpy(src, buf, *npages * PAGE);
    free(buf);
    mprotect(src, *npages * PAGE, PROT_READ);
    return src;
}

// ---- counters -------------------------------------------------------------------------

static const char *vmstat_names[] = {
    "zswpout", "zswpin", "zswpwb", "pswpout", "pswpin",
    "thp_swpout", "thp_swpout_fallback", "swpin_zero", "swpout_zero",
    "pgmajfault", "pgscan_direct", "pgsteal_direct", "pgscan_kswapd", "pgsteal_kswapd",
};
#define NVM (sizeof vmstat_names / sizeof vmstat_names[0])

static void read_vmstat(long long *out) {
    for (size_t i = 0; i < NVM; i++) out[i] = -1;
    FILE *f = fopen("/proc/vmstat", "r");
    if (!f) return;
    char name[128];
    long long v;
    while (fscanf(f, "%127s %lld", name, &v) == 2)
        for (size_t i = 0; i < NVM; i++)
            if (strcmp(name, vmstat_names[i]) == 0) out[i] = v;
    fclose(f);
}

// Machine-wide CPU time from /proc/stat: user, nice, system, idle, iowait, irq, softirq, steal.
static void read_cpu(long long *t) {
    memset(t, 0, 8 * sizeof *t);
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return;
    if (fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &t[0], &t[1], &t[2], &t[3], &t[4], &t[5],
               &t[6], &t[7]) != 8)
        memset(t, 0, 8 * sizeof *t);
    fclose(f);
}

static long long read_ll(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long long v;
    int ok = fscanf(f, "%lld", &v) == 1;
    fclose(f);
    return ok ? v : -1;
}

// zswap debugfs: gauges are reported at the end of the passes and as a maximum over the run;
// everything else is a monotonic counter, reported as a delta.
#define MAXDBG 32
static const char *dbg_gauges[] = {"pool_total_size", "stored_pages", "stored_incompressible_pages",
                                   "same_filled_pages"};
static int is_gauge(const char *n) {
    for (size_t i = 0; i < sizeof dbg_gauges / sizeof dbg_gauges[0]; i++)
        if (strcmp(n, dbg_gauges[i]) == 0) return 1;
    return 0;
}
struct dbg { int n; char name[MAXDBG][64]; long long start[MAXDBG], cur[MAXDBG], max[MAXDBG]; };

static void dbg_init(struct dbg *d, const char *dir) {
    d->n = 0;
    DIR *dp = opendir(dir);
    if (!dp) return;
    struct dirent *e;
    while ((e = readdir(dp)) && d->n < MAXDBG) {
        if (e->d_name[0] == '.') continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        long long v = read_ll(p);
        if (v < 0) continue;
        snprintf(d->name[d->n], 64, "%.63s", e->d_name);
        d->start[d->n] = d->cur[d->n] = d->max[d->n] = v;
        d->n++;
    }
    closedir(dp);
}

static void dbg_sample(struct dbg *d, const char *dir, int gauges_only) {
    for (int i = 0; i < d->n; i++) {
        if (gauges_only && !is_gauge(d->name[i])) continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, d->name[i]);
        long long v = read_ll(p);
        if (v < 0) continue;
        d->cur[i] = v;
        if (v > d->max[i]) d->max[i] = v;
    }
}

static long long dbg_get(const struct dbg *d, const char *n, int want_max) {
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->name[i], n) == 0) return want_max ? d->max[i] : d->cur[i];
    return -1;
}

// ---- worker ---------------------------------------------------------------------------

static void join_cgroup(const char *cg) {
    char p[1024];
    snprintf(p, sizeof p, "%s/cgroup.procs", cg);
    int fd = open(p, O_WRONLY);
    if (fd < 0) die("open %s: %s", p, strerror(errno));
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d\n", getpid());
    if (write(fd, buf, n) != n) die("join cgroup %s: %s", cg, strerror(errno));
    close(fd);
}

static int worker(int w, uint64_t size, int passes, int rand_access, int order,
                  const unsigned char *src, uint64_t npages_src, const char *cgroup,
                  int ready_fd, int go_fd, int done_fd, int exit_fd, struct worker_result *res) {
    if (cgroup) join_cgroup(cgroup);
    uint64_t n = size / PAGE;
    size_t align = order > 0 ? (PAGE << order) : PAGE;
    size_t maplen = n * PAGE + align;
    unsigned char *raw = mmap(NULL, maplen, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) die("worker %d: mmap: %s", w, strerror(errno));
    unsigned char *region = (unsigned char *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
    if (madvise(region, n * PAGE, order > 0 ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) != 0)
        fprintf(stderr, "usemem: worker %d: madvise: %s\n", w, strerror(errno));

    char c = 'r';
    if (write(ready_fd, &c, 1) != 1) die("worker %d: ready pipe", w);
    close(ready_fd);
    if (read(go_fd, &c, 1) < 0) die("worker %d: go pipe", w);  // EOF = go
    close(go_fd);

    double t0 = now_s();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t s = ((uint64_t)w * 7919 + i) % npages_src;
        memcpy(region + i * PAGE, src + s * PAGE, PAGE);
    }
    double t1 = now_s();

    uint64_t mism = 0;
    uint64_t x = 88172645463325252ULL + (uint64_t)w;
    for (int p = 0; p < passes; p++) {
        for (uint64_t k = 0; k < n; k++) {
            uint64_t i;
            if (rand_access) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                i = x % n;
            } else {
                i = k;
            }
            uint64_t s = ((uint64_t)w * 7919 + i) % npages_src;
            if (memcmp(region + i * PAGE, src + s * PAGE, PAGE) != 0) mism++;
        }
    }
    double t2 = now_s();

    res->fill_s = t1 - t0;
    res->pass_s = t2 - t1;
    res->mismatches = mism;
    __atomic_store_n(&res->done, 1, __ATOMIC_RELEASE);
    if (write(done_fd, &c, 1) != 1) die("worker %d: done pipe", w);
    close(done_fd);
    // Keep the region mapped until the parent has sampled the pool.
    if (read(exit_fd, &c, 1) < 0) { /* EOF = exit */ }
    return 0;
}

// ---- main -----------------------------------------------------------------------------

static void usage(void) {
    fprintf(stderr,
            "usage: usemem --pages FILE[.zst] [--workers 2] [--size 512MiB] [--passes 2]\n"
            "              [--access seq|rand] [--order 0|9] [--cgroup DIR]\n"
            "              [--zswap-debugfs /sys/kernel/debug/zswap] [--sample-ms 100] [--label TEXT]\n");
    exit(2);
}

int main(int argc, char **argv) {
    int workers = 2, passes = 2, order = 0, rand_access = 0, sample_ms = 100;
    uint64_t size = 512ULL << 20;
    const char *pages = NULL, *cgroup = NULL, *dbgdir = "/sys/kernel/debug/zswap", *label = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && (i++, 1))
        if (ARG("--workers")) workers = atoi(v);
        else if (ARG("--size")) size = parse_size(v);
        else if (ARG("--passes")) passes = atoi(v);
        else if (ARG("--access")) {
            if (strcmp(v, "seq") == 0) rand_access = 0;
            else if (strcmp(v, "rand") == 0) rand_access = 1;
            else die("--access must be seq or rand");
        }
        else if (ARG("--pages")) pages = v;
        else if (ARG("--order")) order = atoi(v);
        else if (ARG("--cgroup")) cgroup = v;
        else if (ARG("--zswap-debugfs")) dbgdir = v;
        else if (ARG("--sample-ms")) sample_ms = atoi(v);
        else if (ARG("--label")) label = v;
        else usage();
#undef ARG
    }
    if (!pages) usage();
    if (workers < 1 || workers > MAX_WORKERS) die("--workers must be 1..%d", MAX_WORKERS);
    if (passes < 0) die("--passes must be >= 0");
    if (order != 0 && order != 9) die("--order must be 0 or 9");
    if (size < PAGE) die("--size too small");
    size = size / PAGE * PAGE;
    if (order == 9 && size % (PAGE << 9)) die("--size must be a multiple of 2MiB with --order 9");
    if (sample_ms < 1) sample_ms = 1;

    uint64_t npages_src;
    unsigned char *src = load_pages(pages, &npages_src);

    struct worker_result *res = mmap(NULL, sizeof(struct worker_result) * workers,
                                     PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (res == MAP_FAILED) die("mmap results: %s", strerror(errno));
    memset(res, 0, sizeof(struct worker_result) * workers);

    int ready[2], go[2], done[2], ex[2];
    if (pipe(ready) || pipe(go) || pipe(done) || pipe(ex)) die("pipe: %s", strerror(errno));
    fflush(NULL);
    struct rusage ru0;
    getrusage(RUSAGE_CHILDREN, &ru0);

    pid_t pids[MAX_WORKERS];
    for (int w = 0; w < workers; w++) {
        pid_t pid = fork();
        if (pid < 0) die("fork: %s", strerror(errno));
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the parent
            if (getppid() == 1) _exit(3);
            close(ready[0]); close(go[1]); close(done[0]); close(ex[1]);
            _exit(worker(w, size, passes, rand_access, order, src, npages_src, cgroup,
                         ready[1], go[0], done[1], ex[0], &res[w]));
        }
        pids[w] = pid;
    }
    close(ready[1]); close(go[0]); close(done[1]); close(ex[0]);

    // Wait until every worker has joined the cgroup and mapped its region.
    int nready = 0;
    char c;
    while (nready < workers) {
        ssize_t r = read(ready[0], &c, 1);
        if (r == 1) nready++;
        else if (r == 0) die("a worker died before starting");
        else if (errno != EINTR) die("ready pipe: %s", strerror(errno));
    }

    long long vm0[NVM], vm1[NVM];
    struct dbg dbg, thp;
    const char *thpdir = "/sys/kernel/mm/transparent_hugepage/hugepages-2048kB/stats";
    dbg_init(&dbg, dbgdir);
    dbg_init(&thp, thpdir);
    read_vmstat(vm0);
    long long cpu0[8], cpu1[8];
    read_cpu(cpu0);
    char cgpath[1200];
    int cg_v2 = 0;
    if (cgroup) {
        snprintf(cgpath, sizeof cgpath, "%s/memory.limit_in_bytes", cgroup);
        cg_v2 = access(cgpath, F_OK) != 0;
    }

    double t0 = now_s();
    close(go[1]);  // go

    int ndone = 0, failed = 0;
    while (ndone < workers) {
        struct pollfd pfd = {.fd = done[0], .events = POLLIN};
        int pr = poll(&pfd, 1, sample_ms);
        if (pr < 0 && errno != EINTR) die("poll: %s", strerror(errno));
        if (pr > 0) {
            ssize_t r = read(done[0], &c, 1);
            if (r == 1) ndone++;
            else if (r == 0) { failed = 1; break; }  // every worker's write end closed early
        }
        dbg_sample(&dbg, dbgdir, 1);
        // A worker killed (e.g. by the OOM killer) never reports done.
        for (int w = 0; w < workers && !failed; w++) {
            int st;
            pid_t q = waitpid(pids[w], &st, WNOHANG);
            if (q == pids[w]) {
                if (!__atomic_load_n(&res[w].done, __ATOMIC_ACQUIRE)) {
                    fprintf(stderr, "usemem: worker %d died (%s %d) before finishing\n", w,
                            WIFSIGNALED(st) ? "signal" : "exit",
                            WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
                    failed = 1;
                }
                pids[w] = -1;
            }
        }
        if (failed) break;
    }
    double wall = now_s() - t0;

    // Sample with the regions still mapped, then let the workers exit.
    dbg_sample(&dbg, dbgdir, 0);
    dbg_sample(&thp, thpdir, 0);
    read_vmstat(vm1);
    read_cpu(cpu1);
    long long cg_peak = -1, cg_failcnt = -1, cg_usage = -1;
    // A few memory.stat lines (v1: rss, swap; v2: anon, zswap, zswapped) at the end of the passes.
    static const char *cg_keys[] = {"rss", "rss_huge", "cache", "swap", "anon", "anon_thp", "file", "zswap", "zswapped"};
    enum { NCGK = sizeof cg_keys / sizeof cg_keys[0] };
    long long cg_stat[NCGK];
    for (int i = 0; i < NCGK; i++) cg_stat[i] = -1;
    if (cgroup) {
        snprintf(cgpath, sizeof cgpath, "%s/memory.stat", cgroup);
        FILE *f = fopen(cgpath, "r");
        char k[128];
        long long v;
        while (f && fscanf(f, "%127s %lld", k, &v) == 2)
            for (int i = 0; i < NCGK; i++)
                if (strcmp(k, cg_keys[i]) == 0) cg_stat[i] = v;
        if (f) fclose(f);
        snprintf(cgpath, sizeof cgpath, "%s/%s", cgroup, cg_v2 ? "memory.peak" : "memory.max_usage_in_bytes");
        cg_peak = read_ll(cgpath);
        snprintf(cgpath, sizeof cgpath, "%s/%s", cgroup, cg_v2 ? "memory.current" : "memory.usage_in_bytes");
        cg_usage = read_ll(cgpath);
        if (!cg_v2) {
            snprintf(cgpath, sizeof cgpath, "%s/memory.failcnt", cgroup);
            cg_failcnt = read_ll(cgpath);
        }
    }
    close(ex[1]);

    for (int w = 0; w < workers; w++) {
        if (pids[w] < 0) continue;
        if (failed) kill(pids[w], SIGKILL);
        int st;
        if (waitpid(pids[w], &st, 0) == pids[w] && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) failed = 1;
    }
    // CPU time of all reaped workers (the zstd decompressor, reaped earlier, is subtracted).
    struct rusage ru1;
    getrusage(RUSAGE_CHILDREN, &ru1);
    double user_s = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) + (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) * 1e-6;
    double sys_s = (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) + (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) * 1e-6;

    double fill_s = 0, pass_s = 0;
    uint64_t mism = 0;
    for (int w = 0; w < workers; w++) {
        if (res[w].fill_s > fill_s) fill_s = res[w].fill_s;
        if (res[w].pass_s > pass_s) pass_s = res[w].pass_s;
        mism += res[w].mismatches;
    }
    double mib = (double)workers * (double)size * (1 + passes) / (1 << 20);

    printf("{");
    if (label) printf("\"label\":\"%s\",", label);
    printf("\"ok\":%s,\"workers\":%d,\"size_bytes\":%llu,\"passes\":%d,\"access\":\"%s\",\"order\":%d,"
           "\"source_pages\":%llu,",
           failed ? "false" : "true", workers, (unsigned long long)size, passes,
           rand_access ? "rand" : "seq", order, (unsigned long long)npages_src);
    printf("\"throughput_mibps\":%.1f,\"wall_s\":%.3f,\"fill_s\":%.3f,\"pass_s\":%.3f,"
           "\"user_s\":%.2f,\"sys_s\":%.2f,\"mismatches\":%llu",
           failed ? 0.0 : mib / wall, wall, fill_s, pass_s, user_s, sys_s, (unsigned long long)mism);
    for (size_t i = 0; i < 5; i++)  // the five headline counters at top level
        printf(",\"%s\":%lld", vmstat_names[i], vm0[i] < 0 || vm1[i] < 0 ? -1 : vm1[i] - vm0[i]);
    printf(",\"pool_total_size\":%lld,\"pool_total_size_max\":%lld,\"stored_pages\":%lld,\"stored_pages_max\":%lld",
           dbg_get(&dbg, "pool_total_size", 0), dbg_get(&dbg, "pool_total_size", 1),
           dbg_get(&dbg, "stored_pages", 0), dbg_get(&dbg, "stored_pages", 1));
    printf(",\"vmstat\":{");
    for (size_t i = 0; i < NVM; i++)
        printf("%s\"%s\":%lld", i ? "," : "", vmstat_names[i],
               vm0[i] < 0 || vm1[i] < 0 ? -1 : vm1[i] - vm0[i]);
    printf("},\"zswap_debugfs\":{");
    for (int i = 0; i < dbg.n; i++) {
        if (is_gauge(dbg.name[i]))
            printf("%s\"%s\":%lld,\"%s_max\":%lld", i ? "," : "", dbg.name[i], dbg.cur[i], dbg.name[i], dbg.max[i]);
        else
            printf("%s\"%s\":%lld", i ? "," : "", dbg.name[i], dbg.cur[i] - dbg.start[i]);
    }
    {
        static const char *cpu_names[8] = {"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"};
        double hz = (double)sysconf(_SC_CLK_TCK);
        printf("},\"machine_cpu_s\":{");
        for (int i = 0; i < 8; i++) printf("%s\"%s\":%.2f", i ? "," : "", cpu_names[i], (cpu1[i] - cpu0[i]) / hz);
    }
    printf("},\"thp_2048kB\":{");
    for (int i = 0; i < thp.n; i++)
        printf("%s\"%s\":%lld", i ? "," : "", thp.name[i], thp.cur[i] - thp.start[i]);
    printf("}");
    if (cgroup) {
        printf(",\"cgroup\":{\"version\":%d,\"peak_bytes\":%lld,\"usage_bytes\":%lld,\"failcnt\":%lld,\"stat\":{",
               cg_v2 ? 2 : 1, cg_peak, cg_usage, cg_failcnt);
        for (int i = 0, first = 1; i < NCGK; i++)
            if (cg_stat[i] >= 0) { printf("%s\"%s\":%lld", first ? "" : ",", cg_keys[i], cg_stat[i]); first = 0; }
        printf("}}");
    }
    printf(",\"per_worker\":[");
    for (int w = 0; w < workers; w++)
        printf("%s{\"fill_s\":%.3f,\"pass_s\":%.3f,\"mismatches\":%llu}", w ? "," : "", res[w].fill_s,
               res[w].pass_s, (unsigned long long)res[w].mismatches);
    printf("]}\n");
    fflush(stdout);
    return failed || mism ? 1 : 0;
}
