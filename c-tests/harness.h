/* Shared helpers for the C tests: load libfphal.so as libhardware does, record notify messages,
 * touch the virtual sensor, mint enroll tokens. */
#ifndef FPHAL_CTEST_HARNESS_H
#define FPHAL_CTEST_HARNESS_H
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include "fphal.h"

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

#define MAX_MSGS 8192

typedef struct {
    void *dso;
    fingerprint_module_t *module;
    fingerprint_device_t *dev;
} loaded_t;

/* dlopen(RTLD_NOW), dlsym("HMI"), id check, hmi->dso = handle. Exits on failure. */
void load_module(const char *path, loaded_t *out);
/* methods->open(module, NULL, &dev) and set_notify(record). Returns open's result. */
int open_device(loaded_t *l);
void close_device(loaded_t *l);

/* Recorded messages. */
void msgs_reset(void);
int msgs_count(void);
fingerprint_msg_t msgs_get(int i);
/* Waits up to timeout_ms until at least n messages are recorded. Returns 1 when they are. */
int msgs_wait_count(int n, int timeout_ms);
/* Waits for a message of the given type (and, for errors, code; -1 = any) after index from.
 * Returns its index or -1. */
int msgs_wait_for(int from, int type, int code, int timeout_ms);
void msgs_dump(void);
void record_msg(const fingerprint_msg_t *msg);

/* Virtual sensor. */
int sensor_connect(fingerprint_device_t *dev);
/* Sends one image; returns the sensor's status (0 taken, 1 ignored, 2 refused). */
int sensor_touch(int fd, const uint8_t *px, int w, int h, int dpi);
/* Lifts the finger, no sooner than SENSOR_HOLD_MS after the touch. */
#define SENSOR_HOLD_MS 80
int sensor_lift(int fd);
/* Lifts the finger at once (for configurations with sensor.min_contact_ms = 0). */
int sensor_lift_now(int fd);
/* A ridge image of finger `finger` (odd: loop, even: arch) seen with shift and rotation. */
void make_finger(uint8_t *px, int w, int h, int finger, float dx, float dy, float degrees);

/* Test configuration in a fresh temporary directory; sets FPHAL_CONFIG. Returns the directory. */
const char *setup_config(const char *extra_toml);
/* Where the tests make their temporary directories: $TMPDIR when set (the test scripts point it at
 * a directory they remove afterwards), else /tmp. */
const char *temp_root(void);
/* Reads the auth-token key the trustlet created. */
void read_auth_key(const char *dir, uint8_t key[32]);
/* A fresh group directory under the test directory. */
const char *make_group_dir(const char *dir, const char *name);
/* pre_enroll + gatekeeper token + enroll; returns enroll()'s result. */
int start_enroll(fingerprint_device_t *dev, const uint8_t key[32], uint32_t gid, uint32_t timeout);
/* Enrolls one finger through touches; returns its fid (0 on failure). */
uint32_t enroll_finger(fingerprint_device_t *dev, int sensor, const uint8_t key[32], uint32_t gid, int finger, int samples);
long now_ms(void);
#endif
