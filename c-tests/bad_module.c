/* A legacy fingerprint module that breaks the contract on purpose, to check that fphal-host
 * names each violation: device version 0x0200, set_notify returning 1, ACQUIRED_DETECTED (6),
 * an empty enumeration with remaining=1, two CANCELED for one cancel, an authenticator id of 0,
 * a return value outside ErrorFilter. */
#include "fphal.h" /* carries the AOSP declarations of hardware/fingerprint.h */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static fingerprint_notify_t g_notify;

static void send(fingerprint_msg_t *m) { if (g_notify) g_notify(m); }

static int bad_set_notify(struct fingerprint_device *dev, fingerprint_notify_t notify) {
    dev->notify = notify;
    g_notify = notify;
    return 1;
}
static uint64_t bad_pre_enroll(struct fingerprint_device *dev) { (void)dev; return 1; }
static int bad_enroll(struct fingerprint_device *dev, const hw_auth_token_t *hat, uint32_t gid, uint32_t t) {
    (void)dev; (void)hat; (void)gid; (void)t; return 0;
}
static int bad_post_enroll(struct fingerprint_device *dev) { (void)dev; return 0; }
static uint64_t bad_get_authenticator_id(struct fingerprint_device *dev) { (void)dev; return 0; }
static int bad_cancel(struct fingerprint_device *dev) {
    (void)dev;
    fingerprint_msg_t m; memset(&m, 0, sizeof m);
    m.type = FINGERPRINT_ERROR; m.data.error = FINGERPRINT_ERROR_CANCELED;
    send(&m); send(&m);
    return 0;
}
static int bad_enumerate(struct fingerprint_device *dev) {
    (void)dev;
    fingerprint_msg_t m; memset(&m, 0, sizeof m);
    m.type = FINGERPRINT_TEMPLATE_ENUMERATING; m.data.enumerated.remaining_templates = 1;
    send(&m);
    return 0;
}
static int bad_remove(struct fingerprint_device *dev, uint32_t gid, uint32_t fid) { (void)dev; (void)gid; (void)fid; return -EPERM; }
static int bad_set_active_group(struct fingerprint_device *dev, uint32_t gid, const char *path) { (void)dev; (void)gid; (void)path; return 0; }
static int bad_authenticate(struct fingerprint_device *dev, uint64_t op, uint32_t gid) {
    (void)dev; (void)op; (void)gid;
    fingerprint_msg_t m; memset(&m, 0, sizeof m);
    m.type = FINGERPRINT_ACQUIRED; m.data.acquired.acquired_info = 6;
    send(&m);
    return 0;
}
static int bad_close(hw_device_t *dev) { free(dev); return 0; }

static int bad_open(const hw_module_t *module, const char *id, hw_device_t **device) {
    (void)id;
    fingerprint_device_t *dev = calloc(1, sizeof *dev);
    if (!dev) return -ENOMEM;
    dev->common.tag = HARDWARE_DEVICE_TAG;
    dev->common.version = 0x0200;
    dev->common.module = (hw_module_t *)module;
    dev->common.close = bad_close;
    dev->set_notify = bad_set_notify;
    dev->pre_enroll = bad_pre_enroll;
    dev->enroll = bad_enroll;
    dev->post_enroll = bad_post_enroll;
    dev->get_authenticator_id = bad_get_authenticator_id;
    dev->cancel = bad_cancel;
    dev->enumerate = bad_enumerate;
    dev->remove = bad_remove;
    dev->set_active_group = bad_set_active_group;
    dev->authenticate = bad_authenticate;
    *device = &dev->common;
    return 0;
}

static struct hw_module_methods_t bad_methods = { .open = bad_open };

fingerprint_module_t HMI = {
    .common = {
        .tag = HARDWARE_MODULE_TAG,
        .module_api_version = FINGERPRINT_MODULE_API_VERSION_2_0,
        .hal_api_version = HARDWARE_HAL_API_VERSION,
        .id = FINGERPRINT_HARDWARE_MODULE_ID,
        .name = "contract-breaking test module",
        .author = "fphal tests",
        .methods = &bad_methods,
    },
};
