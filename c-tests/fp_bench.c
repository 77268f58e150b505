/* Contract latencies: cancel() → worker leaving poll() while it waits for a finger, and the
 * call-to-return time of every entry point. Prints p50/p99 in microseconds. */
#define _GNU_SOURCE
#include "harness.h"
#include <dlfcn.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N 1000
static uint64_t ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static int cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}
static void report(const char *name, uint64_t *v) {
    qsort(v, N, sizeof v[0], cmp);
    printf("| %-34s | %9.1f | %9.1f |\n", name, v[N / 2] / 1000.0, v[N * 99 / 100] / 1000.0);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    const char *dir = setup_config("[log]\nlevel = \"error\"\n");
    loaded_t l;
    load_module(argv[1], &l);
    int (*last_wake)(const fingerprint_device_t *, uint64_t *) = (int (*)(const fingerprint_device_t *, uint64_t *))dlsym(l.dso, "fphal_device_last_wake_ns");
    CHECK(last_wake != NULL);
    static uint64_t v[N];
    for (int i = 0; i < N; i++) {
        uint64_t t = ns();
        CHECK(open_device(&l) == 0);
        v[i] = ns() - t;
        close_device(&l);
    }
    printf("| %-34s | %9s | %9s |\n|---|---:|---:|\n", "what (µs)", "p50", "p99");
    report("open + set_notify", v);
    CHECK(open_device(&l) == 0);
    fingerprint_device_t *dev = l.dev;
    const char *group = make_group_dir(dir, "g");
    for (int i = 0; i < N; i++) {
        msgs_reset();
        if (i == 0) CHECK(dev->set_active_group(dev, 0, group) == 0);
        CHECK(dev->authenticate(dev, 1, 0) == 0);
        usleep(2000); /* let the worker settle into poll() waiting for a finger */
        uint64_t t = ns(), wake = 0;
        CHECK(dev->cancel(dev) == 0);
        CHECK(msgs_wait_for(0, FINGERPRINT_ERROR, FINGERPRINT_ERROR_CANCELED, 3000) >= 0);
        CHECK(last_wake(dev, &wake) == 0);
        v[i] = wake - t;
    }
    report("cancel() -> worker leaves poll()", v);
#define TIME(name, expr)                    \
    for (int i = 0; i < N; i++) {           \
        uint64_t t = ns();                  \
        expr;                               \
        v[i] = ns() - t;                    \
    }                                       \
    report(name, v);
    hw_auth_token_t hat;
    memset(&hat, 0, sizeof hat);
    TIME("set_notify", dev->set_notify(dev, record_msg));
    TIME("pre_enroll", dev->pre_enroll(dev));
    TIME("post_enroll", dev->post_enroll(dev));
    TIME("get_authenticator_id", dev->get_authenticator_id(dev));
    TIME("set_active_group", dev->set_active_group(dev, 0, group));
    TIME("enroll (returns; result via notify)", dev->enroll(dev, &hat, 0, 0));
    TIME("authenticate", dev->authenticate(dev, 1, 0));
    TIME("cancel", dev->cancel(dev));
    TIME("enumerate", dev->enumerate(dev));
    TIME("remove", dev->remove(dev, 0, 5));
    usleep(200000);
    close_device(&l);
    return 0;
}
