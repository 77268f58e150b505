/* The demo: loads libfphal.so as libhardware does and drives one scripted session as a client
 * would (fresh temporary store and keys), printing every callback on one line. */
#define _GNU_SOURCE
#include "harness.h"
#include <string.h>
#include <unistd.h>

static long t0;

static const char *acquired_name(int a) {
    static const char *n[] = {"GOOD", "PARTIAL", "INSUFFICIENT", "IMAGER_DIRTY", "TOO_SLOW", "TOO_FAST"};
    return a >= 0 && a <= 5 ? n[a] : "VENDOR";
}

static const char *error_name(int e) {
    static const char *n[] = {"?", "HW_UNAVAILABLE", "UNABLE_TO_PROCESS", "TIMEOUT", "NO_SPACE", "CANCELED", "UNABLE_TO_REMOVE", "LOCKOUT"};
    return e >= 1 && e <= 7 ? n[e] : "VENDOR";
}

static void print_msg(const fingerprint_msg_t *m) {
    printf("%7ld ms  ", now_ms() - t0);
    switch (m->type) {
    case FINGERPRINT_ERROR: printf("%-22s %s\n", "ERROR", error_name(m->data.error)); break;
    case FINGERPRINT_ACQUIRED: printf("%-22s %s\n", "ACQUIRED", acquired_name(m->data.acquired.acquired_info)); break;
    case FINGERPRINT_TEMPLATE_ENROLLING:
        printf("%-22s gid=%u fid=%u remaining=%u\n", "TEMPLATE_ENROLLING", m->data.enroll.finger.gid, m->data.enroll.finger.fid, m->data.enroll.samples_remaining);
        break;
    case FINGERPRINT_TEMPLATE_REMOVED:
        printf("%-22s gid=%u fid=%u remaining=%u\n", "TEMPLATE_REMOVED", m->data.removed.finger.gid, m->data.removed.finger.fid, m->data.removed.remaining_templates);
        break;
    case FINGERPRINT_TEMPLATE_ENUMERATING:
        printf("%-22s gid=%u fid=%u remaining=%u\n", "TEMPLATE_ENUMERATING", m->data.enumerated.finger.gid, m->data.enumerated.finger.fid, m->data.enumerated.remaining_templates);
        break;
    case FINGERPRINT_AUTHENTICATED:
        printf("%-22s gid=%u fid=%u%s\n", "AUTHENTICATED", m->data.authenticated.finger.gid, m->data.authenticated.finger.fid,
               m->data.authenticated.finger.fid ? " (match, signed token)" : " (not recognised)");
        break;
    default: printf("UNKNOWN type %d\n", m->type);
    }
    fflush(stdout);
    record_msg(m);
}

static void step(const char *what) {
    printf("%7ld ms  %-22s %s\n", now_ms() - t0, "->", what);
    fflush(stdout);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    t0 = now_ms();
    const char *dir = setup_config("[enroll]\nsamples = 4\n[log]\nlevel = \"warn\"\n");
    loaded_t l;
    load_module(argv[1], &l);
    CHECK(open_device(&l) == 0);
    fingerprint_device_t *dev = l.dev;
    CHECK(dev->set_notify(dev, print_msg) == 0);
    step("open: device version 0x0201, set_notify = 0");
    const char *group = make_group_dir(dir, "fpdata");
    CHECK(dev->set_active_group(dev, 0, group) == 0);
    step("set_active_group(0)");
    printf("%7ld ms  %-22s authenticator_id=%016llx\n", now_ms() - t0, "->", (unsigned long long)dev->get_authenticator_id(dev));
    int from = msgs_count();
    step("enumerate (empty group)");
    CHECK(dev->enumerate(dev) == 0);
    msgs_wait_count(from + 1, 3000);

    uint8_t key[32];
    read_auth_key(dir, key);
    int sensor = sensor_connect(dev);
    static uint8_t px[160 * 160];
    step("pre_enroll + gatekeeper token + enroll (4 touches of finger A)");
    CHECK(start_enroll(dev, key, 0, 30) == 0);
    make_finger(px, 160, 160, 1, 0, 0, 0);
    for (int i = 0; i < 160 * 160; i++)
        if (i % 160 > 50) px[i] = 235; /* a touch that covers a third of the sensor */
    step("touch: finger A, partial");
    from = msgs_count();
    sensor_touch(sensor, px, 160, 160, 500);
    sensor_lift(sensor);
    msgs_wait_count(from + 1, 3000);
    for (int i = 0; i < 4; i++) {
        make_finger(px, 160, 160, 1, (float)(i % 2) * 24 - 12, (float)(i / 2) * 24 - 12, (float)i * 2);
        step("touch: finger A");
        from = msgs_count();
        sensor_touch(sensor, px, 160, 160, 500);
        sensor_lift(sensor);
        msgs_wait_for(from, FINGERPRINT_TEMPLATE_ENROLLING, -1, 3000);
    }
    CHECK(dev->post_enroll(dev) == 0);
    step("post_enroll");
    step("authenticate(operation_id=42)");
    CHECK(dev->authenticate(dev, 42, 0) == 0);
    make_finger(px, 160, 160, 2, 0, 0, 0);
    step("touch: finger B");
    from = msgs_count();
    sensor_touch(sensor, px, 160, 160, 500);
    sensor_lift(sensor);
    msgs_wait_for(from, FINGERPRINT_AUTHENTICATED, -1, 3000);
    make_finger(px, 160, 160, 1, 6, -5, 4);
    step("touch: finger A, new placement");
    from = msgs_count();
    sensor_touch(sensor, px, 160, 160, 500);
    sensor_lift(sensor);
    msgs_wait_for(from, FINGERPRINT_AUTHENTICATED, -1, 3000);
    step("authenticate, then cancel");
    CHECK(dev->authenticate(dev, 43, 0) == 0);
    from = msgs_count();
    CHECK(dev->cancel(dev) == 0);
    msgs_wait_for(from, FINGERPRINT_ERROR, -1, 3000);
    step("enumerate");
    from = msgs_count();
    CHECK(dev->enumerate(dev) == 0);
    msgs_wait_for(from, FINGERPRINT_TEMPLATE_ENUMERATING, -1, 3000);
    step("remove(0, 0): every finger");
    from = msgs_count();
    CHECK(dev->remove(dev, 0, 0) == 0);
    msgs_wait_for(from, FINGERPRINT_TEMPLATE_REMOVED, -1, 3000);
    usleep(50 * 1000);
    close(sensor);
    close_device(&l);
    step("close");
    printf("demo finished: %d callbacks\n", msgs_count());
    return 0;
}
