/* Contract points beyond VTS: open/close/open, -EBUSY, NULL and garbage arguments, paths,
 * touches through the sensor socket, progress, matching, timeout, replacement, cancel storm,
 * lockout, enumerate and remove counting. */
#define _GNU_SOURCE
#include "harness.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

static const int allowed[] = {0, -2, -4, -5, -11, -12, -13, -14, -16, -22, -28, -110};
static void in_filter(int rc) {
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (rc == allowed[i]) return;
    fprintf(stderr, "return value %d is outside the HIDL ErrorFilter set\n", rc);
    exit(1);
}

static void no_detected_acquired(void) {
    for (int i = 0; i < msgs_count(); i++) {
        fingerprint_msg_t m = msgs_get(i);
        CHECK(!(m.type == FINGERPRINT_ACQUIRED && m.data.acquired.acquired_info == FINGERPRINT_ACQUIRED_DETECTED));
        CHECK(m.type == FINGERPRINT_ERROR || (m.type >= 1 && m.type <= 6 && m.type != 2));
    }
}

static void garbage_arguments(loaded_t *l) {
    fingerprint_device_t *dev = l->dev;
    fingerprint_device_t fake;
    memset(&fake, 0x5a, sizeof fake);
    fingerprint_device_t *bad[2] = {NULL, &fake};
    for (int i = 0; i < 2; i++) {
        fingerprint_device_t *b = bad[i];
        CHECK(dev->set_notify(b, record_msg) == -EINVAL);
        CHECK(dev->pre_enroll(b) == 0);
        CHECK(dev->enroll(b, NULL, 1, 0) == -EINVAL);
        CHECK(dev->post_enroll(b) == -EINVAL);
        CHECK(dev->get_authenticator_id(b) == 0);
        CHECK(dev->cancel(b) == -EINVAL);
        CHECK(dev->enumerate(b) == -EINVAL);
        CHECK(dev->remove(b, 1, 1) == -EINVAL);
        CHECK(dev->set_active_group(b, 1, "/tmp") == -EINVAL);
        CHECK(dev->authenticate(b, 1, 1) == -EINVAL);
        CHECK(dev->common.close((hw_device_t *)b) == -EINVAL);
        char buf[8];
        CHECK(fphal_device_sensor_path(b, buf, sizeof buf) == -EINVAL);
    }
    char tiny[4];
    CHECK(fphal_device_sensor_path(dev, tiny, sizeof tiny) == -ERANGE);
    CHECK(fphal_device_sensor_path(dev, NULL, 100) == -EINVAL);
    hw_device_t *d = NULL;
    CHECK(l->module->common.methods->open(&l->module->common, NULL, NULL) == -EINVAL);
    CHECK(l->module->common.methods->open(&l->module->common, "anything", &d) == -EBUSY);
    CHECK(d == NULL);
}

static void group_paths(fingerprint_device_t *dev, const char *dir) {
    char path[600];
    CHECK(dev->set_active_group(dev, 1, "relative/path") == -EINVAL);
    CHECK(dev->set_active_group(dev, 1, "/nonexistent/fphal/dir") == -EINVAL);
    snprintf(path, sizeof path, "%s/fphal.toml", dir); /* a regular file */
    CHECK(dev->set_active_group(dev, 1, path) == -EINVAL);
    CHECK(dev->set_active_group(dev, 1, "") == -EINVAL);
    CHECK(dev->set_active_group(dev, 1, NULL) == -EINVAL);
    snprintf(path, sizeof path, "%s///", make_group_dir(dir, "slashes"));
    CHECK(dev->set_active_group(dev, 1, path) == 0);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    const char *dir = setup_config("[enroll]\nsamples = 3\n[lockout]\nduration_ms = 400\ninsecure_weak = true\n");
    loaded_t l;
    load_module(argv[1], &l);

    /* The library, its header and its module name carry one version. */
    CHECK(strcmp(fphal_version(), FPHAL_VERSION_STRING) == 0);
    CHECK(strstr(l.module->common.name, FPHAL_VERSION_STRING) != NULL);

    /* A bad configuration file makes open fail with -EINVAL rather than guess. */
    char good[600], bad[600];
    snprintf(good, sizeof good, "%s", getenv("FPHAL_CONFIG"));
    snprintf(bad, sizeof bad, "%s/bad.toml", dir);
    FILE *f = fopen(bad, "w");
    CHECK(f != NULL);
    fputs("[enroll]\nsampels = 3\n", f);
    fclose(f);
    setenv("FPHAL_CONFIG", bad, 1);
    CHECK(open_device(&l) == -EINVAL);
    setenv("FPHAL_CONFIG", good, 1);

    /* open -> close -> open in one process */
    CHECK(open_device(&l) == 0);
    int (*cancel_fn)(struct fingerprint_device *) = l.dev->cancel;
    fingerprint_device_t *first = l.dev;
    close_device(&l);
    CHECK(cancel_fn(first) == -EINVAL); /* a closed device is refused, never used */
    CHECK(open_device(&l) == 0);
    fingerprint_device_t *dev = l.dev;
    CHECK(dev->common.tag == HARDWARE_DEVICE_TAG && dev->common.version == 0x0201);
    CHECK(dev->common.module == &l.module->common);
    for (int i = 0; i < 12; i++) CHECK(dev->common.reserved[i] == 0);
    for (int i = 0; i < 4; i++) CHECK(dev->reserved[i] == NULL);
    garbage_arguments(&l);
    group_paths(dev, dir);

    uint8_t key[32];
    read_auth_key(dir, key);
    const char *group = make_group_dir(dir, "g7");
    CHECK(dev->set_active_group(dev, 7, group) == 0);
    int sensor = sensor_connect(dev);
    static uint8_t px[160 * 160];

    /* A touch while nothing waits is ignored, as a real sensor does. */
    make_finger(px, 160, 160, 1, 0, 0, 0);
    CHECK(sensor_touch(sensor, px, 160, 160, 500) == 1);
    CHECK(sensor_lift(sensor) == 1);

    /* A NULL token is a bad token: 0, then ERROR(UNABLE_TO_PROCESS). */
    int from = msgs_count();
    CHECK(dev->enroll(dev, NULL, 7, 0) == 0);
    CHECK(msgs_wait_for(from, FINGERPRINT_ERROR, FINGERPRINT_ERROR_UNABLE_TO_PROCESS, 3000) >= 0);

    /* Enrollment through touches; progress carries the gid and the fid. */
    uint64_t auth_id_before = dev->get_authenticator_id(dev);
    uint32_t fid_a = enroll_finger(dev, sensor, key, 7, 1, 3);
    CHECK(fid_a != 0 && fid_a < 0x80000000u);
    CHECK(dev->get_authenticator_id(dev) != auth_id_before);

    /* Enumerate: one finger, remaining 0. */
    from = msgs_count();
    CHECK(dev->enumerate(dev) == 0);
    int at = msgs_wait_for(from, FINGERPRINT_TEMPLATE_ENUMERATING, -1, 3000);
    CHECK(at >= 0 && msgs_get(at).data.enumerated.finger.fid == fid_a && msgs_get(at).data.enumerated.remaining_templates == 0);

    /* Authenticate: another finger is rejected (fid 0) and scanning goes on; finger A matches. */
    from = msgs_count();
    CHECK(dev->authenticate(dev, 0xabcdef, 7) == 0);
    make_finger(px, 160, 160, 2, 0, 0, 0);
    CHECK(sensor_touch(sensor, px, 160, 160, 500) == 0);
    at = msgs_wait_for(from, FINGERPRINT_AUTHENTICATED, -1, 3000);
    CHECK(at >= 0 && msgs_get(at).data.authenticated.finger.fid == 0);
    CHECK(sensor_lift(sensor) == 0);
    make_finger(px, 160, 160, 1, 5, -4, 3);
    long t0 = now_ms();
    CHECK(sensor_touch(sensor, px, 160, 160, 500) == 0);
    at = msgs_wait_for(at + 1, FINGERPRINT_AUTHENTICATED, -1, 3000);
    CHECK(at >= 0);
    fingerprint_msg_t m = msgs_get(at);
    printf("touch to AUTHENTICATED: %ld ms\n", now_ms() - t0);
    CHECK(m.data.authenticated.finger.fid == fid_a && m.data.authenticated.finger.gid == 7);
    hw_auth_token_t hat = m.data.authenticated.hat;
    CHECK(hat.version == 0 && hat.challenge == 0xabcdef && hat.user_id == 0x1234);
    CHECK(hat.authenticator_type == __builtin_bswap32(HW_AUTH_FINGERPRINT));
    CHECK(hat.authenticator_id == dev->get_authenticator_id(dev));
    CHECK(fphal_auth_token_verify(key, 32, (const uint8_t *)&hat, sizeof hat) == 0);
    CHECK(sensor_lift(sensor) == 0);

    /* Enroll timeout. */
    from = msgs_count();
    CHECK(start_enroll(dev, key, 7, 1) == 0);
    at = msgs_wait_for(from, FINGERPRINT_ERROR, -1, 4000);
    CHECK(at >= 0 && msgs_get(at).data.error == FINGERPRINT_ERROR_TIMEOUT);

    /* A start-type call replaces the running operation with no message of its own. */
    from = msgs_count();
    CHECK(dev->authenticate(dev, 1, 7) == 0);
    CHECK(dev->enumerate(dev) == 0);
    CHECK(msgs_wait_for(from, FINGERPRINT_TEMPLATE_ENUMERATING, -1, 3000) >= 0);
    usleep(100 * 1000);
    for (int i = from; i < msgs_count(); i++) CHECK(msgs_get(i).type != FINGERPRINT_ERROR);

    /* Cancel storm: exactly one CANCELED per cancel, nothing else. */
    msgs_reset();
    for (int i = 0; i < 1000; i++) {
        in_filter(dev->authenticate(dev, (uint64_t)i, 7));
        in_filter(dev->cancel(dev));
    }
    CHECK(msgs_wait_count(1000, 10000));
    usleep(200 * 1000);
    CHECK(msgs_count() == 1000);
    for (int i = 0; i < 1000; i++) {
        m = msgs_get(i);
        CHECK(m.type == FINGERPRINT_ERROR && m.data.error == FINGERPRINT_ERROR_CANCELED);
    }

    /* Lockout after 5 false trials; refused at once while locked; released after the time. */
    from = msgs_count();
    CHECK(dev->authenticate(dev, 2, 7) == 0);
    for (int i = 0; i < 5; i++) {
        make_finger(px, 160, 160, 2, (float)i, 0, 0);
        CHECK(sensor_touch(sensor, px, 160, 160, 500) == 0);
        CHECK(sensor_lift(sensor) == 0 || 1);
        at = msgs_wait_for(from, FINGERPRINT_AUTHENTICATED, -1, 3000);
        CHECK(at >= 0 && msgs_get(at).data.authenticated.finger.fid == 0);
        from = at + 1;
    }
    at = msgs_wait_for(from, FINGERPRINT_ERROR, -1, 3000);
    CHECK(at >= 0 && msgs_get(at).data.error == FINGERPRINT_ERROR_LOCKOUT);
    from = msgs_count();
    CHECK(dev->authenticate(dev, 3, 7) == 0);
    at = msgs_wait_for(from, FINGERPRINT_ERROR, -1, 3000);
    CHECK(at >= 0 && msgs_get(at).data.error == FINGERPRINT_ERROR_LOCKOUT);
    usleep(500 * 1000);
    from = msgs_count();
    CHECK(dev->authenticate(dev, 4, 7) == 0);
    make_finger(px, 160, 160, 1, -3, 2, -2);
    CHECK(sensor_touch(sensor, px, 160, 160, 500) == 0);
    at = msgs_wait_for(from, FINGERPRINT_AUTHENTICATED, -1, 3000);
    CHECK(at >= 0 && msgs_get(at).data.authenticated.finger.fid == fid_a);
    CHECK(sensor_lift(sensor) == 0);

    /* Templates persist across close/open; a second finger; remove counts down. */
    close(sensor);
    close_device(&l);
    CHECK(open_device(&l) == 0);
    dev = l.dev;
    CHECK(dev->set_active_group(dev, 7, group) == 0);
    sensor = sensor_connect(dev);
    uint32_t fid_b = enroll_finger(dev, sensor, key, 7, 4, 3);
    CHECK(fid_b != 0 && fid_b != fid_a);
    from = msgs_count();
    CHECK(dev->enumerate(dev) == 0);
    CHECK(msgs_wait_count(from + 2, 3000));
    CHECK(msgs_get(from).data.enumerated.remaining_templates == 1);
    CHECK(msgs_get(from + 1).data.enumerated.remaining_templates == 0);
    from = msgs_count();
    CHECK(dev->remove(dev, 7, 0x7777) == 0); /* missing fid: {fid, gid, 0} and no error */
    at = msgs_wait_for(from, FINGERPRINT_TEMPLATE_REMOVED, -1, 3000);
    m = msgs_get(at);
    CHECK(m.data.removed.finger.fid == 0x7777 && m.data.removed.finger.gid == 7 && m.data.removed.remaining_templates == 0);
    from = msgs_count();
    CHECK(dev->remove(dev, 7, 0) == 0);
    CHECK(msgs_wait_count(from + 2, 3000));
    usleep(100 * 1000);
    CHECK(msgs_count() == from + 2); /* no trailing {fid=0} */
    CHECK(msgs_get(from).data.removed.remaining_templates == 1 && msgs_get(from + 1).data.removed.remaining_templates == 0);
    CHECK(msgs_get(from + 1).data.removed.finger.fid != 0);
    from = msgs_count();
    CHECK(dev->enumerate(dev) == 0);
    at = msgs_wait_for(from, FINGERPRINT_TEMPLATE_ENUMERATING, -1, 3000);
    CHECK(msgs_get(at).data.enumerated.finger.fid == 0 && msgs_get(at).data.enumerated.remaining_templates == 0);

    no_detected_acquired();
    close(sensor);
    close_device(&l);
    printf("fp_api: all checks passed\n");
    return 0;
}
