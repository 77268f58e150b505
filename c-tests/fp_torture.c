/* ABI torture: threads making random calls of every entry point, with valid and invalid
 * arguments, against a device that is closed and opened again now and then; calls from inside
 * notify; cancel storms; touches on the virtual sensor throughout, so that the capture path runs
 * too. Meant for AddressSanitizer + UBSan with leak detection, and for valgrind.
 *
 *   fp_torture LIB SECONDS [SEED]
 *
 * Invariants, checked while it runs and at the end of every device's life (all callers paused,
 * the worker drained):
 *  - every int return value is one the HIDL 2.1 ErrorFilter maps;
 *  - every cancel that returned 0 is answered by exactly one ERROR(CANCELED);
 *  - the group enumerates every finger it reported enrolled and did not report removed.
 * A watchdog ends the run with status 3 when a pause for these checks does not come (a call that
 * never returns keeps its caller's read lock, so it is caught here too).
 * Prints the number of calls made; exits 0 when every invariant held. */
#define _GNU_SOURCE
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define THREADS 4
#define GID 1
#define MAX_FIDS 64

static loaded_t lib;
static uint8_t auth_key[32];
static const char *group_dir;
static const char *test_dir;

/* The device callers use; replaced at every close/open. Callers hold `life` for reading. */
static _Atomic(fingerprint_device_t *) current;
static pthread_rwlock_t life; /* writer-preferring: the pauses must not starve */
/* The entry points, taken from the first device: they are the module's own functions, valid for
 * any device pointer, so a stale pointer reaches them and must be refused there. */
static fingerprint_device_t table;

static atomic_long calls, cancels_ok, canceled_msgs, bad_returns;
static atomic_int stop;
static atomic_int in_notify_calls;
static atomic_long touches_taken, enrolled_msgs, authenticated_msgs;

/* Fingers reported enrolled and not removed (guarded by fid_lock). */
static pthread_mutex_t fid_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t live_fids[MAX_FIDS];
static int live_count;
static uint32_t seen_fids[MAX_FIDS];
static int seen_count;
static atomic_int enumerating;

static int in_error_filter(int rc) {
    static const int ok[] = {0, -2, -4, -5, -11, -12, -13, -14, -16, -22, -28, -110};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (rc == ok[i]) return 1;
    return 0;
}

static void check_rc(const char *what, int rc) {
    atomic_fetch_add(&calls, 1);
    /* fphal's own functions also answer -ERANGE (buffer too small), as documented in fphal.h. */
    int own = strncmp(what, "fphal_", 6) == 0 && rc == -34;
    if (!in_error_filter(rc) && !own) {
        fprintf(stderr, "fp_torture: %s returned %d, outside the ErrorFilter set\n", what, rc);
        atomic_fetch_add(&bad_returns, 1);
    }
}

static void fid_add(uint32_t fid) {
    pthread_mutex_lock(&fid_lock);
    if (live_count < MAX_FIDS) live_fids[live_count++] = fid;
    pthread_mutex_unlock(&fid_lock);
}

static void fid_remove(uint32_t fid) {
    pthread_mutex_lock(&fid_lock);
    for (int i = 0; i < live_count; i++)
        if (live_fids[i] == fid) live_fids[i--] = live_fids[--live_count];
    pthread_mutex_unlock(&fid_lock);
}

static __thread unsigned rng_state;
static unsigned rnd(void) {
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

static void on_notify(const fingerprint_msg_t *m) {
    switch (m->type) {
    case FINGERPRINT_ERROR:
        if (m->data.error == FINGERPRINT_ERROR_CANCELED) atomic_fetch_add(&canceled_msgs, 1);
        break;
    case FINGERPRINT_TEMPLATE_ENROLLING:
        if (m->data.enroll.samples_remaining == 0 && m->data.enroll.finger.fid != 0) {
            fid_add(m->data.enroll.finger.fid);
            atomic_fetch_add(&enrolled_msgs, 1);
        }
        break;
    case FINGERPRINT_AUTHENTICATED:
        atomic_fetch_add(&authenticated_msgs, 1);
        break;
    case FINGERPRINT_TEMPLATE_REMOVED:
        if (m->data.removed.finger.fid != 0) fid_remove(m->data.removed.finger.fid);
        break;
    case FINGERPRINT_TEMPLATE_ENUMERATING:
        if (atomic_load(&enumerating) && m->data.enumerated.finger.fid != 0) {
            pthread_mutex_lock(&fid_lock);
            if (seen_count < MAX_FIDS) seen_fids[seen_count++] = m->data.enumerated.finger.fid;
            pthread_mutex_unlock(&fid_lock);
        }
        break;
    default:
        break;
    }
    /* Calls from inside notify, now and then: they must neither deadlock nor crash. */
    if (!atomic_load(&enumerating) && (rnd() % 16) == 0) {
        fingerprint_device_t *d = atomic_load(&current);
        atomic_fetch_add(&in_notify_calls, 1);
        switch (rnd() % 3) {
        case 0: check_rc("enumerate (in notify)", table.enumerate(d)); break;
        case 1: (void)table.get_authenticator_id(d); atomic_fetch_add(&calls, 1); break;
        default: check_rc("authenticate (in notify)", table.authenticate(d, 7, GID)); break;
        }
    }
}

static void enroll_call(fingerprint_device_t *d) {
    uint64_t challenge = table.pre_enroll(d);
    atomic_fetch_add(&calls, 1);
    hw_auth_token_t hat;
    CHECK(fphal_auth_token_mint(auth_key, 32, challenge, 0x1234, (uint8_t *)&hat, sizeof hat) == 0);
    if (rnd() % 4 == 0) ((uint8_t *)&hat)[rnd() % sizeof hat] ^= 1; /* a broken token now and then */
    check_rc("enroll", table.enroll(d, rnd() % 8 ? &hat : NULL, rnd() % 8 ? GID : 99, rnd() % 3));
}

static void one_call(void) {
    fingerprint_device_t *d = atomic_load(&current);
    fingerprint_device_t garbage;
    memset(&garbage, 0x5a, sizeof garbage);
    unsigned pick = rnd() % 100;
    if (pick < 3) d = NULL;
    else if (pick < 6) d = &garbage;
    switch (rnd() % 12) {
    case 0: (void)table.pre_enroll(d); atomic_fetch_add(&calls, 1); break;
    case 1: check_rc("post_enroll", table.post_enroll(d)); break;
    case 2: (void)table.get_authenticator_id(d); atomic_fetch_add(&calls, 1); break;
    case 3: enroll_call(d); break;
    case 4: check_rc("authenticate", table.authenticate(d, rnd(), rnd() % 8 ? GID : 5)); break;
    case 5: {
        int burst = rnd() % 8 == 0 ? 50 : 1; /* a cancel storm now and then */
        for (int i = 0; i < burst; i++) {
            int rc = table.cancel(d);
            check_rc("cancel", rc);
            if (rc == 0 && d == atomic_load(&current)) atomic_fetch_add(&cancels_ok, 1);
        }
        break;
    }
    case 6: check_rc("enumerate", table.enumerate(d)); break;
    /* Remove-all only now and then, so that enrolled fingers live long enough to be checked. */
    case 7: check_rc("remove", table.remove(d, rnd() % 8 ? GID : 3, rnd() % 256 ? rnd() : 0)); break;
    case 8: {
        static const char *bad[] = {"", "relative/path", "/nonexistent/fphal/dir", "/proc/self/status", NULL};
        unsigned k = rnd() % 6;
        check_rc("set_active_group", table.set_active_group(d, GID, k < 5 ? bad[k] : group_dir));
        break;
    }
    case 9: check_rc("set_notify", table.set_notify(d, rnd() % 8 ? on_notify : NULL)); break;
    case 10: {
        char path[256];
        check_rc("fphal_device_sensor_path", fphal_device_sensor_path(d, path, rnd() % 2 ? sizeof path : 4));
        break;
    }
    default: {
        uint64_t ns;
        check_rc("fphal_device_last_wake_ns", fphal_device_last_wake_ns(d, rnd() % 8 ? &ns : NULL));
        break;
    }
    }
}

static void *caller(void *arg) {
    rng_state = (unsigned)(uintptr_t)arg;
    while (!atomic_load(&stop)) {
        pthread_rwlock_rdlock(&life);
        for (int i = 0; i < 64 && !atomic_load(&stop); i++) one_call();
        pthread_rwlock_unlock(&life);
    }
    return NULL;
}

/* Touches and lifts on the current device's sensor: fingers 1-3 at varied places. */
static void *toucher(void *arg) {
    rng_state = (unsigned)(uintptr_t)arg;
    static uint8_t px[160 * 160];
    while (!atomic_load(&stop)) {
        pthread_rwlock_rdlock(&life);
        int fd = sensor_connect(atomic_load(&current));
        for (int i = 0; i < 8 && !atomic_load(&stop); i++) {
            make_finger(px, 160, 160, 1 + (int)(rnd() % 3), (float)(rnd() % 40) - 20.0f, (float)(rnd() % 40) - 20.0f,
                        (float)(rnd() % 10));
            if (sensor_touch(fd, px, 160, 160, 500) == 0) atomic_fetch_add(&touches_taken, 1);
            (void)sensor_lift(fd);
        }
        close(fd);
        pthread_rwlock_unlock(&life);
    }
    return NULL;
}

/* A query is answered after everything queued before it: once one is answered, the worker has
 * done all that came before. A slow machine may need more than one query's timeout for a backlog. */
static void drain(fingerprint_device_t *d) {
    for (int i = 0; i < 10 && table.get_authenticator_id(d) == 0; i++) {
    }
    usleep(50 * 1000);
    for (int i = 0; i < 10 && table.get_authenticator_id(d) == 0; i++) {
    }
}

/* With every caller paused: drain the worker, check the invariants. Returns 1 when they hold. */
static int quiesced_check(void) {
    fingerprint_device_t *d = atomic_load(&current);
    CHECK(table.set_notify(d, on_notify) == 0);
    drain(d);
    int ok = 1;
    long want = atomic_load(&cancels_ok), got = atomic_load(&canceled_msgs);
    if (want != got) {
        fprintf(stderr, "fp_torture: %ld cancels returned 0 but %ld ERROR(CANCELED) came\n", want, got);
        ok = 0;
    }
    pthread_mutex_lock(&fid_lock);
    seen_count = 0;
    pthread_mutex_unlock(&fid_lock);
    atomic_store(&enumerating, 1);
    int rc = -110;
    for (int i = 0; i < 10 && rc == -110; i++) rc = table.set_active_group(d, GID, group_dir);
    CHECK(rc == 0);
    CHECK(table.enumerate(d) == 0);
    drain(d);
    atomic_store(&enumerating, 0);
    pthread_mutex_lock(&fid_lock);
    for (int i = 0; i < live_count; i++) {
        int found = 0;
        for (int j = 0; j < seen_count; j++) found |= seen_fids[j] == live_fids[i];
        if (!found) {
            fprintf(stderr, "fp_torture: finger %u was reported enrolled but is not enumerated\n", live_fids[i]);
            ok = 0;
        }
    }
    pthread_mutex_unlock(&fid_lock);
    atomic_store(&cancels_ok, 0);
    atomic_store(&canceled_msgs, 0);
    return ok;
}

static void watchdog(int sig) {
    (void)sig;
    static const char msg[] = "fp_torture: watchdog: a call or a pause did not come back (deadlock)\n";
    ssize_t unused = write(2, msg, sizeof msg - 1);
    (void)unused;
    _exit(3);
}

int main(int argc, char **argv) {
    CHECK(argc >= 3);
    int seconds = atoi(argv[2]);
    unsigned seed = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : (unsigned)getpid();
    rng_state = seed;
    setenv("FPHAL_LOG", "error", 1); /* the INSECURE lockout of this test is said once here, not per open */
    signal(SIGALRM, watchdog);
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    CHECK(pthread_rwlock_init(&life, &attr) == 0);
    test_dir = setup_config("[log]\nlevel = \"off\"\n[enroll]\nsamples = 3\n[lockout]\nduration_ms = 200\n"
                            "insecure_weak = true\n");
    group_dir = make_group_dir(test_dir, "group");
    load_module(argv[1], &lib);
    CHECK(open_device(&lib) == 0);
    table = *lib.dev;
    atomic_store(&current, lib.dev);
    CHECK(table.set_notify(lib.dev, on_notify) == 0);
    CHECK(table.set_active_group(lib.dev, GID, group_dir) == 0);
    read_auth_key(test_dir, auth_key);

    pthread_t t[THREADS + 1];
    for (uintptr_t i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, caller, (void *)(seed + 17 * (i + 1))) == 0);
    CHECK(pthread_create(&t[THREADS], NULL, toucher, (void *)(uintptr_t)(seed + 99)) == 0);

    long end = now_ms() + seconds * 1000L;
    int lives = 1, ok = 1, rc;
    while (now_ms() < end && ok) {
        usleep((useconds_t)(200 + rnd() % 800) * 1000);
        alarm(300); /* room for a slow machine's drained queries (5 s each at most) */
        pthread_rwlock_wrlock(&life);
        ok = quiesced_check();
        /* Close and open again; the stale pointer stays in `current` a moment for in-notify callers. */
        fingerprint_device_t *old = atomic_load(&current);
        CHECK(old->common.close(&old->common) == 0);
        check_rc("stale set_active_group", table.set_active_group(old, GID, group_dir));
        CHECK(open_device(&lib) == 0);
        atomic_store(&current, lib.dev);
        CHECK(table.set_notify(lib.dev, on_notify) == 0);
        rc = -110;
        for (int i = 0; i < 10 && rc == -110; i++) rc = table.set_active_group(lib.dev, GID, group_dir);
        CHECK(rc == 0);
        lives++;
        pthread_rwlock_unlock(&life);
        alarm(0);
    }
    atomic_store(&stop, 1);
    alarm(300);
    for (int i = 0; i <= THREADS; i++) pthread_join(t[i], NULL);
    pthread_rwlock_wrlock(&life);
    ok = ok && quiesced_check();
    close_device(&lib);
    alarm(0);
    long bad = atomic_load(&bad_returns);
    printf("fp_torture: %ld calls (%d from inside notify) over %d device lives in %d s, seed %u; %ld touches "
           "taken, %ld fingers enrolled, %ld AUTHENTICATED; %s\n",
           atomic_load(&calls), atomic_load(&in_notify_calls), lives, seconds, seed, atomic_load(&touches_taken),
           atomic_load(&enrolled_msgs), atomic_load(&authenticated_msgs),
           ok && bad == 0 ? "every invariant held" : "INVARIANT BROKEN");
    return ok && bad == 0 ? 0 : 1;
}
