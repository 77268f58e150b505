/* The 18 VTS 2.1 cases, ported to the legacy API (contract §5), run with no configuration at all:
 * the embedded default (virtual sensor + software trustlet) must pass them. */
#define _GNU_SOURCE
#include "harness.h"
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static fingerprint_device_t *dev;
static char tmp_dir[256]; /* with a trailing slash, as VTS passes it */
static const int kTimeoutMs = 3000;
static const uint32_t kGroupId = 99;

static void no_error_since(int from) {
    usleep(100 * 1000);
    int n = msgs_count();
    for (int i = from; i < n; i++) {
        fingerprint_msg_t m = msgs_get(i);
        if (m.type == FINGERPRINT_ERROR) {
            msgs_dump();
            CHECK(m.type != FINGERPRINT_ERROR);
        }
        CHECK(!(m.type == FINGERPRINT_ACQUIRED && m.data.acquired.acquired_info == FINGERPRINT_ACQUIRED_DETECTED));
    }
}

/* Exactly one CANCELED after `from`, and nothing after it. */
static void one_cancel_since(int from) {
    int at = msgs_wait_for(from, FINGERPRINT_ERROR, FINGERPRINT_ERROR_CANCELED, kTimeoutMs);
    CHECK(at >= 0);
    usleep(100 * 1000);
    CHECK(msgs_count() == at + 1);
}

static void setup(void) {
    CHECK(dev->set_active_group(dev, kGroupId, tmp_dir) == 0);
}

static void enroll_bad_hat(const hw_auth_token_t *hat) {
    int from = msgs_count();
    CHECK(dev->enroll(dev, hat, kGroupId, 3) == 0);
    int at = msgs_wait_for(from, FINGERPRINT_ERROR, -1, kTimeoutMs);
    CHECK(at >= 0);
    CHECK(msgs_get(at).data.error != 0);
}

static void wait_remaining_zero(int from, int type) {
    for (;;) {
        int at = msgs_wait_for(from, type, -1, kTimeoutMs);
        CHECK(at >= 0);
        fingerprint_msg_t m = msgs_get(at);
        CHECK(m.data.removed.finger.gid == kGroupId);
        if (m.data.removed.remaining_templates == 0) return;
        from = at + 1;
    }
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    unsetenv("FPHAL_CONFIG");
    unsetenv("XDG_RUNTIME_DIR");
    unsetenv("XDG_STATE_HOME");
    char home[200]; /* room for "/fpdata/" after it in tmp_dir */
    CHECK((size_t)snprintf(home, sizeof home, "%s/fphal-vts-home-XXXXXX", temp_root()) < sizeof home);
    CHECK(mkdtemp(home) != NULL);
    setenv("HOME", home, 1);
    snprintf(tmp_dir, sizeof tmp_dir, "%s/fpdata/", home);
    CHECK(mkdir(tmp_dir, 0700) == 0);

    loaded_t l;
    load_module(argv[1], &l);
    CHECK(open_device(&l) == 0);
    dev = l.dev;
    CHECK(dev->common.tag == HARDWARE_DEVICE_TAG);
    CHECK(dev->common.version == FINGERPRINT_MODULE_API_VERSION_2_1);
    setup();

    /* ConnectTest */
    CHECK(dev->set_notify(dev, record_msg) == 0 && dev->notify == record_msg);
    /* ConnectNullTest: the wrapper never passes NULL; the legacy HAL refuses it */
    CHECK(dev->set_notify(dev, NULL) == -EINVAL);
    CHECK(dev->set_notify(dev, record_msg) == 0);
    /* PreEnrollTest */
    uint64_t seen[10];
    for (int i = 0; i < 10; i++) {
        seen[i] = dev->pre_enroll(dev);
        CHECK(seen[i] != 0);
        for (int j = 0; j < i; j++) CHECK(seen[j] != seen[i]);
    }
    /* EnrollInvalidHatTest */
    hw_auth_token_t hat;
    memset(&hat, 0, sizeof hat);
    setup();
    enroll_bad_hat(&hat);
    /* EnrollNullTest: uninitialised bytes */
    for (size_t i = 0; i < sizeof hat; i++) ((uint8_t *)&hat)[i] = (uint8_t)(rand() & 0xff);
    enroll_bad_hat(&hat);
    /* PostEnrollTest */
    CHECK(dev->post_enroll(dev) == 0);
    /* GetAuthenticatorIdTest */
    CHECK(dev->get_authenticator_id(dev) != 0);
    /* EnumerateTest */
    setup();
    int from = msgs_count();
    CHECK(dev->enumerate(dev) == 0);
    int at = msgs_wait_for(from, FINGERPRINT_TEMPLATE_ENUMERATING, -1, kTimeoutMs);
    CHECK(at >= 0);
    CHECK(msgs_get(at).data.enumerated.finger.fid == 0 && msgs_get(at).data.enumerated.remaining_templates == 0);
    no_error_since(from);
    /* RemoveFingerprintTest */
    from = msgs_count();
    CHECK(dev->remove(dev, kGroupId, 1) == 0);
    wait_remaining_zero(from, FINGERPRINT_TEMPLATE_REMOVED);
    no_error_since(from);
    /* RemoveAllFingerprintsTest */
    from = msgs_count();
    CHECK(dev->remove(dev, kGroupId, 0) == 0);
    wait_remaining_zero(from, FINGERPRINT_TEMPLATE_REMOVED);
    no_error_since(from);
    /* SetActiveGroupTest */
    CHECK(dev->set_active_group(dev, 2, tmp_dir) == 0);
    CHECK(dev->set_active_group(dev, kGroupId, tmp_dir) == 0);
    /* SetActiveGroupUnwritableTest: tests run as root, so use a path that is a regular file */
    char file[300];
    snprintf(file, sizeof file, "%s/regular-file", home);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    fclose(f);
    CHECK(dev->set_active_group(dev, 3, file) < 0);
    CHECK(dev->set_active_group(dev, kGroupId, tmp_dir) == 0);
    /* SetActiveGroupNullTest */
    CHECK(dev->set_active_group(dev, 4, NULL) < 0);
    CHECK(dev->set_active_group(dev, 4, "") < 0);
    CHECK(dev->set_active_group(dev, kGroupId, tmp_dir) == 0);
    /* CancelTest */
    from = msgs_count();
    CHECK(dev->cancel(dev) == 0);
    one_cancel_since(from);
    /* CancelEnrollTest */
    setup();
    from = msgs_count();
    CHECK(dev->enroll(dev, &hat, kGroupId, 3) == 0);
    CHECK(dev->cancel(dev) == 0);
    CHECK(msgs_wait_for(from, FINGERPRINT_ERROR, FINGERPRINT_ERROR_CANCELED, kTimeoutMs) >= 0);
    /* CancelAuthTest */
    from = msgs_count();
    CHECK(dev->authenticate(dev, 0, kGroupId) == 0);
    CHECK(dev->cancel(dev) == 0);
    one_cancel_since(from);
    /* CancelRemoveTest */
    from = msgs_count();
    CHECK(dev->remove(dev, kGroupId, 1) == 0);
    CHECK(dev->cancel(dev) == 0);
    CHECK(msgs_wait_for(from, FINGERPRINT_ERROR, FINGERPRINT_ERROR_CANCELED, kTimeoutMs) >= 0);
    /* CancelRemoveAllTest */
    from = msgs_count();
    CHECK(dev->remove(dev, kGroupId, 0) == 0);
    CHECK(dev->cancel(dev) == 0);
    CHECK(msgs_wait_for(from, FINGERPRINT_ERROR, FINGERPRINT_ERROR_CANCELED, kTimeoutMs) >= 0);

    close_device(&l);
    printf("fp_vts: 18 VTS 2.1 cases passed\n");
    return 0;
}
