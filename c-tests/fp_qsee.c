/* The QSEE bridge through the C ABI: trustlet.kind "qsee-fpc" with the QSEECom double standing in
 * for libQSEEComAPI.so. Enroll, authenticate (match with a token that verifies with the keymaster's
 * key, reject), cancel, enumerate and remove end to end; then each failure switch as the HAL meets
 * it. Usage: fp_qsee <libfphal.so> <libfphal_qsee_double.so> */
#define _GNU_SOURCE
#include "harness.h"
#include "qsee_double.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

static const char *lib_path;
static char extra[1024];
static uint8_t key[32];
static uint8_t blank[16 * 16];

static void touch(int sensor) {
    CHECK(sensor_touch(sensor, blank, 16, 16, 500) == 0);
    CHECK(sensor_lift(sensor) == 0);
}

/* A fresh device on a fresh group; returns the sensor socket. */
static int open_session(loaded_t *l, const char *name) {
    const char *dir = setup_config(extra);
    load_module(lib_path, l);
    CHECK(open_device(l) == 0);
    CHECK(l->dev->set_active_group(l->dev, 0, make_group_dir(dir, name)) == 0);
    msgs_reset();
    return sensor_connect(l->dev);
}

static uint32_t enroll(loaded_t *l, int sensor, uint32_t finger) {
    fphal_qsee_double_place_finger(finger, 0);
    int from = msgs_count();
    CHECK(start_enroll(l->dev, key, 0, 60) == 0);
    for (int i = 0; i < 4; i++) {
        int before = msgs_count();
        touch(sensor);
        CHECK(msgs_wait_for(before, FINGERPRINT_TEMPLATE_ENROLLING, -1, 10000) >= 0);
    }
    int last = -1;
    for (int i = from; i < msgs_count(); i++) {
        fingerprint_msg_t m = msgs_get(i);
        if (m.type == FINGERPRINT_TEMPLATE_ENROLLING) last = i;
    }
    fingerprint_msg_t m = msgs_get(last);
    CHECK(m.data.enroll.samples_remaining == 0 && m.data.enroll.finger.fid != 0);
    return m.data.enroll.finger.fid;
}

static fingerprint_msg_t authenticate(loaded_t *l, int sensor, uint32_t finger, uint64_t op) {
    fphal_qsee_double_place_finger(finger, 0);
    int from = msgs_count();
    CHECK(l->dev->authenticate(l->dev, op, 0) == 0);
    touch(sensor);
    int at = msgs_wait_for(from, FINGERPRINT_AUTHENTICATED, -1, 10000);
    CHECK(at >= 0);
    return msgs_get(at);
}

static int count_errors(int from, int code) {
    int n = 0;
    for (int i = from; i < msgs_count(); i++) {
        fingerprint_msg_t m = msgs_get(i);
        if (m.type == FINGERPRINT_ERROR && (int)m.data.error == code) n++;
    }
    return n;
}

static void full_session(void) {
    loaded_t l;
    int sensor = open_session(&l, "session");
    fingerprint_device_t *dev = l.dev;
    uint64_t id_before = dev->get_authenticator_id(dev);
    uint32_t fid = enroll(&l, sensor, 7);
    CHECK(dev->post_enroll(dev) == 0);
    CHECK(dev->get_authenticator_id(dev) != id_before);

    fingerprint_msg_t m = authenticate(&l, sensor, 7, 0x1122334455667788ULL);
    CHECK(m.data.authenticated.finger.fid == fid);
    const hw_auth_token_t *hat = &m.data.authenticated.hat;
    CHECK(hat->challenge == 0x1122334455667788ULL);
    CHECK(fphal_auth_token_verify(key, 32, (const uint8_t *)hat, sizeof *hat) == 0);

    m = authenticate(&l, sensor, 8, 5);
    CHECK(m.data.authenticated.finger.fid == 0);
    int from = msgs_count();
    CHECK(dev->cancel(dev) == 0);
    CHECK(msgs_wait_for(from, FINGERPRINT_ERROR, FINGERPRINT_ERROR_CANCELED, 5000) >= 0);
    usleep(200 * 1000);
    CHECK(count_errors(from, FINGERPRINT_ERROR_CANCELED) == 1);

    from = msgs_count();
    CHECK(dev->enumerate(dev) == 0);
    int at = msgs_wait_for(from, FINGERPRINT_TEMPLATE_ENUMERATING, -1, 5000);
    CHECK(at >= 0 && msgs_get(at).data.enumerated.finger.fid == fid && msgs_get(at).data.enumerated.remaining_templates == 0);
    from = msgs_count();
    CHECK(dev->remove(dev, 0, fid) == 0);
    at = msgs_wait_for(from, FINGERPRINT_TEMPLATE_REMOVED, -1, 5000);
    CHECK(at >= 0 && msgs_get(at).data.removed.finger.fid == fid);
    from = msgs_count();
    CHECK(dev->enumerate(dev) == 0);
    at = msgs_wait_for(from, FINGERPRINT_TEMPLATE_ENUMERATING, -1, 5000);
    CHECK(at >= 0 && msgs_get(at).data.enumerated.finger.fid == 0);
    close(sensor);
    close_device(&l);
    CHECK(fphal_qsee_double_count(QSEE_DOUBLE_COUNT_OPEN_APPS) == 0);
    printf("qsee: enroll, match (token verified), reject, cancel, enumerate, remove\n");
}

static void open_refused(uint32_t which, int64_t arg, const char *what) {
    fphal_qsee_double_reset();
    fphal_qsee_double_fail(which, arg);
    setup_config(extra);
    loaded_t l;
    load_module(lib_path, &l);
    int rc = open_device(&l);
    CHECK(rc == -EINVAL);
    CHECK(fphal_qsee_double_count(QSEE_DOUBLE_COUNT_OPEN_APPS) == 0);
    printf("qsee: %s: open refused with %d, no trustlet left running\n", what, rc);
}

static void dies_mid_enroll(void) {
    fphal_qsee_double_reset();
    loaded_t l;
    int sensor = open_session(&l, "dies");
    fphal_qsee_double_place_finger(5, 0);
    CHECK(start_enroll(l.dev, key, 0, 60) == 0);
    fphal_qsee_double_fail(QSEE_DOUBLE_FAIL_DIE_MID_ENROLL, 1);
    int from = msgs_count();
    touch(sensor);
    CHECK(msgs_wait_for(from, FINGERPRINT_ERROR, FINGERPRINT_ERROR_HW_UNAVAILABLE, 5000) >= 0);
    fphal_qsee_double_fail(QSEE_DOUBLE_FAIL_NONE, 0);
    usleep(400 * 1000);
    uint32_t fid = enroll(&l, sensor, 5);
    CHECK(authenticate(&l, sensor, 5, 9).data.authenticated.finger.fid == fid);
    CHECK(fphal_qsee_double_count(QSEE_DOUBLE_COUNT_APP_STARTS) == 2);
    close(sensor);
    close_device(&l);
    printf("qsee: a trustlet dead mid-enroll: ERROR_HW_UNAVAILABLE, restarted, enrolls again\n");
}

static void slow_trustlet(void) {
    fphal_qsee_double_reset();
    loaded_t l;
    int sensor = open_session(&l, "slow");
    fphal_qsee_double_place_finger(6, 0);
    CHECK(l.dev->authenticate(l.dev, 1, 0) == 0);
    CHECK(l.dev->get_authenticator_id(l.dev) != 0); /* the worker has armed the sensor */
    fphal_qsee_double_fail(QSEE_DOUBLE_FAIL_SLOW, 300);
    int from = msgs_count();
    /* The finger stays down: its lift would wait for the worker, which is in the trustlet. */
    CHECK(sensor_touch(sensor, blank, 16, 16, 500) == 0);
    usleep(100 * 1000);
    long asked = now_ms();
    CHECK(l.dev->cancel(l.dev) == 0);
    CHECK(msgs_wait_for(from, FINGERPRINT_ERROR, FINGERPRINT_ERROR_CANCELED, 5000) >= 0);
    long delay = now_ms() - asked;
    fphal_qsee_double_fail(QSEE_DOUBLE_FAIL_NONE, 0);
    CHECK(sensor_lift(sensor) == 0);
    usleep(300 * 1000);
    CHECK(count_errors(from, FINGERPRINT_ERROR_CANCELED) == 1);
    CHECK(msgs_count() == from + 1); /* the touch in flight is dropped: nothing but CANCELED */
    close(sensor);
    close_device(&l);
    printf("qsee: a slow trustlet (300 ms a command): one CANCELED, %ld ms after cancel()\n", delay);
}

static void error_storm(void) {
    fphal_qsee_double_reset();
    loaded_t l;
    int sensor = open_session(&l, "storm");
    fphal_qsee_double_fail(QSEE_DOUBLE_FAIL_ERROR_STORM, 1000);
    long began = now_ms();
    int calls = 0;
    while (now_ms() - began < 1000) {
        CHECK(l.dev->pre_enroll(l.dev) == 0);
        calls++;
    }
    uint64_t starts = fphal_qsee_double_count(QSEE_DOUBLE_COUNT_APP_STARTS);
    CHECK(calls > 100 && starts >= 2 && starts <= 6);
    fphal_qsee_double_fail(QSEE_DOUBLE_FAIL_NONE, 0);
    usleep(400 * 1000);
    CHECK(l.dev->pre_enroll(l.dev) != 0);
    close(sensor);
    close_device(&l);
    printf("qsee: 1000 error answers armed: %d calls refused, %llu trustlet starts, then it works again\n", calls,
           (unsigned long long)starts);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s <libfphal.so> <libfphal_qsee_double.so>\n", argv[0]);
        return 2;
    }
    lib_path = argv[1];
    snprintf(extra, sizeof extra,
             "kind = \"qsee-fpc\"\n[qsee]\nlibrary = \"%s\"\ngeneration = \"tama\"\nshared_heap = \"memfd\"\n"
             "restart_max_ms = 300\n[log]\nlevel = \"error\"\n",
             argv[2]);
    memset(blank, 128, sizeof blank);
    fphal_qsee_double_reset();
    fphal_qsee_double_auth_key(key);
    full_session();
    open_refused(QSEE_DOUBLE_FAIL_APP_MISSING, 0, "trustlet image missing");
    open_refused(QSEE_DOUBLE_FAIL_KEYMASTER_STATUS, -24, "keymaster status -24, no key");
    open_refused(QSEE_DOUBLE_FAIL_KEYMASTER_STATUS, (int32_t)0xFF000FFC, "keymaster 0xFF000FFC");
    open_refused(QSEE_DOUBLE_FAIL_KEYMASTER_BOUNDS, 0, "key outside the keymaster's answer");
    dies_mid_enroll();
    slow_trustlet();
    error_storm();
    printf("fp_qsee: all passed\n");
    return 0;
}
