/* Soak: TOUCHES mixed enroll / authenticate / cancel touches through the C ABI, from a pool of
 * images made before the clock starts, on one device that stays open, as a phone's service would
 * live. Reports resident memory, open descriptors, threads and touch-to-answer latency for the
 * first and the last tenth of the touches, and fails when descriptors or threads grew, memory grew
 * by more than a quarter (and 16 MiB), or a touch or a cancel went unanswered.
 *
 *   fp_soak LIB TOUCHES [SEED] */
#define _GNU_SOURCE
#include "harness.h"

#include <dirent.h>
#include <string.h>
#include <unistd.h>

#define GID 1
#define POOL 48
#define SIDE 160
#define FINGERS 4

static uint8_t pool[POOL][SIDE * SIDE];
static int pool_finger[POOL];
static unsigned rng = 1;
static unsigned rnd(void) {
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

typedef struct {
    long rss_kb, fds, threads;
} usage_t;

static usage_t usage(void) {
    usage_t u = {0, 0, 0};
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6)) u.rss_kb = atol(line + 6);
        if (!strncmp(line, "Threads:", 8)) u.threads = atol(line + 8);
    }
    if (f) fclose(f);
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while (d && (e = readdir(d))) u.fds += e->d_name[0] != '.';
    if (d) closedir(d);
    return u;
}

/* Whether ENROLLING or ERROR came after message `from` within timeout_ms. */
static int enrolling_or_error(int from, int timeout_ms) {
    long until = now_ms() + timeout_ms;
    do {
        if (msgs_wait_for(from, FINGERPRINT_TEMPLATE_ENROLLING, -1, 5) >= 0) return 1;
        if (msgs_wait_for(from, FINGERPRINT_ERROR, -1, 0) >= 0) return 1;
    } while (now_ms() < until);
    return 0;
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static long pct(long *v, int n, double q) {
    qsort(v, (size_t)n, sizeof *v, cmp_long);
    return v[(int)((n - 1) * q + 0.5)];
}

int main(int argc, char **argv) {
    CHECK(argc >= 3);
    int touches = atoi(argv[2]);
    rng = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 1;
    CHECK(touches >= 10);
    setenv("FPHAL_LOG", "error", 1);
    /* The configuration of setup_config, with no settle time (its [sensor] table is written here). */
    static char dir[256];
    CHECK((size_t)snprintf(dir, sizeof dir, "%s/fphal-soak-XXXXXX", temp_root()) < sizeof dir);
    CHECK(mkdtemp(dir) != NULL);
    char path[320];
    snprintf(path, sizeof path, "%s/fphal.toml", dir);
    FILE *cf = fopen(path, "w");
    CHECK(cf != NULL);
    fprintf(cf, "[log]\nlevel = \"error\"\n[sensor]\nruntime_dir = \"%s\"\nmin_contact_ms = 0\n[trustlet]\nkey_dir = \"%s/keys\"\n"
                "[enroll]\nsamples = 3\n[lockout]\nmax_false_trials = 20\nduration_ms = 0\ninsecure_weak = true\n",
            dir, dir);
    fclose(cf);
    setenv("FPHAL_CONFIG", path, 1);
    const char *group = make_group_dir(dir, "group");
    for (int i = 0; i < POOL; i++) {
        pool_finger[i] = 1 + i % FINGERS;
        make_finger(pool[i], SIDE, SIDE, pool_finger[i], (float)(i % 5) * 6.0f - 12.0f, (float)(i % 7) * 4.0f - 12.0f,
                    (float)(i % 3) * 3.0f);
    }
    loaded_t lib;
    load_module(argv[1], &lib);
    CHECK(open_device(&lib) == 0);
    fingerprint_device_t *dev = lib.dev;
    CHECK(dev->set_active_group(dev, GID, group) == 0);
    uint8_t key[32];
    read_auth_key(dir, key);
    int sensor = sensor_connect(dev);

    long *lat = calloc((size_t)touches, sizeof *lat);
    CHECK(lat != NULL);
    int tenth = touches / 10, timed = 0, enrolled = 0, matches = 0, rejects = 0, cancels = 0, others = 0;
    usage_t first = {0, 0, 0}, last = {0, 0, 0};
    uint32_t fids[8];
    int nfids = 0, done = 0, failures = 0;
    long started = now_ms();
    while (done < touches) {
        if (done >= tenth && first.rss_kb == 0) first = usage();
        unsigned what = rnd() % 100;
        msgs_reset();
        if (what < 12) {
            /* An enrollment: room made first by removing a finger when the group is full. */
            if (nfids == FINGERS) {
                uint32_t fid = fids[rnd() % (unsigned)nfids];
                CHECK(dev->remove(dev, GID, fid) == 0);
                if (msgs_wait_for(0, FINGERPRINT_TEMPLATE_REMOVED, -1, 5000) < 0) failures++;
                for (int i = 0; i < nfids; i++)
                    if (fids[i] == fid) fids[i--] = fids[--nfids];
                msgs_reset();
            }
            CHECK(start_enroll(dev, key, GID, 0) == 0);
            int img = (int)(rnd() % POOL);
            uint32_t fid = 0;
            for (int k = 0; k < 6 && done < touches && fid == 0; k++, done++) {
                int from = msgs_count();
                CHECK(sensor_touch(sensor, pool[(img + k * FINGERS) % POOL], SIDE, SIDE, 500) == 0);
                sensor_lift_now(sensor);
                int at = msgs_wait_for(from, FINGERPRINT_ACQUIRED, -1, 5000);
                if (at < 0) failures++;
                /* A GOOD touch is followed by ENROLLING (or an error); others are not counted. */
                int good = at >= 0 && msgs_get(at).data.acquired.acquired_info == FINGERPRINT_ACQUIRED_GOOD;
                if (good && !enrolling_or_error(from, 5000)) failures++;
                int e = msgs_wait_for(from, FINGERPRINT_TEMPLATE_ENROLLING, -1, 0);
                if (e >= 0 && msgs_get(e).data.enroll.samples_remaining == 0) fid = msgs_get(e).data.enroll.finger.fid;
                if (msgs_wait_for(from, FINGERPRINT_ERROR, -1, 0) >= 0) break; /* already enrolled, say */
            }
            CHECK(dev->cancel(dev) == 0);
            if (msgs_wait_for(0, FINGERPRINT_ERROR, FINGERPRINT_ERROR_CANCELED, 5000) < 0) failures++;
            if (fid != 0 && nfids < 8) fids[nfids++] = fid, enrolled++;
        } else {
            /* An authentication touch; now and then cancelled right after the touch. */
            CHECK(dev->authenticate(dev, rnd(), GID) == 0);
            int img = (int)(rnd() % POOL);
            long t0 = now_ms();
            CHECK(sensor_touch(sensor, pool[img], SIDE, SIDE, 500) == 0);
            sensor_lift_now(sensor);
            done++;
            if (what < 20) {
                CHECK(dev->cancel(dev) == 0);
                if (msgs_wait_for(0, FINGERPRINT_ERROR, FINGERPRINT_ERROR_CANCELED, 5000) < 0) failures++;
                cancels++;
                continue;
            }
            int a = msgs_wait_for(0, FINGERPRINT_AUTHENTICATED, -1, 5000);
            if (a < 0) {
                others++; /* not good enough a capture to count: ACQUIRED only */
                if (msgs_wait_for(0, FINGERPRINT_ACQUIRED, -1, 0) < 0) failures++;
            } else {
                lat[timed++] = now_ms() - t0;
                if (msgs_get(a).data.authenticated.finger.fid != 0) matches++;
                else rejects++;
            }
            CHECK(dev->cancel(dev) == 0);
            if (msgs_wait_for(0, FINGERPRINT_ERROR, FINGERPRINT_ERROR_CANCELED, 5000) < 0) failures++;
        }
        if (done >= touches - tenth && last.rss_kb == 0) last = usage();
    }
    usage_t end = usage();
    if (last.rss_kb == 0) last = end;
    long elapsed = now_ms() - started;
    close(sensor);
    close_device(&lib);

    CHECK(timed > 0); /* every run of at least 10 touches times some authentications */
    int head = timed / 10 > 0 ? timed / 10 : 1;
    long *late = malloc((size_t)head * sizeof *late);
    CHECK(late != NULL);
    memcpy(late, lat + timed - head, (size_t)head * sizeof *late);
    long e50 = pct(lat, head, 0.5), e99 = pct(lat, head, 0.99);
    long l50 = pct(late, head, 0.5), l99 = pct(late, head, 0.99);
    printf("fp_soak: %d touches in %.1f s (seed %u): %d matches, %d rejections, %d not counted, %d cancelled, "
           "%d fingers enrolled\n",
           touches, elapsed / 1000.0, argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 1, matches, rejects, others, cancels,
           enrolled);
    printf("| tenth | RSS (KiB) | fds | threads | touch to AUTHENTICATED p50 / p99 (ms) |\n|---|---:|---:|---:|---:|\n");
    printf("| first | %ld | %ld | %ld | %ld / %ld |\n", first.rss_kb, first.fds, first.threads, e50, e99);
    printf("| last | %ld | %ld | %ld | %ld / %ld |\n", last.rss_kb, last.fds, last.threads, l50, l99);
    int grew = last.fds > first.fds || last.threads > first.threads ||
               last.rss_kb > first.rss_kb + first.rss_kb / 4 + 16 * 1024;
    if (grew) fprintf(stderr, "fp_soak: descriptors, threads or memory grew\n");
    if (failures) fprintf(stderr, "fp_soak: %d touches or cancels went unanswered\n", failures);
    free(lat);
    free(late);
    return grew || failures ? 1 : 0;
}
