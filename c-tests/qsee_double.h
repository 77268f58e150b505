/* The QSEECom double's controls (qsee-double/src/lib.rs): a stand-in for libQSEEComAPI.so with a
 * simulated keymaster and FPC trustlet. Link the test with it; fphal dlopens the same copy. */
#ifndef FPHAL_QSEE_DOUBLE_H
#define FPHAL_QSEE_DOUBLE_H
#include <stdint.h>

enum {
    QSEE_DOUBLE_FAIL_NONE = 0,
    QSEE_DOUBLE_FAIL_APP_MISSING = 1,
    QSEE_DOUBLE_FAIL_KEYMASTER_STATUS = 2,
    QSEE_DOUBLE_FAIL_KEYMASTER_BOUNDS = 3,
    QSEE_DOUBLE_FAIL_DIE_MID_ENROLL = 4,
    QSEE_DOUBLE_FAIL_SLOW = 5,
    QSEE_DOUBLE_FAIL_ERROR_STORM = 6,
};

enum {
    QSEE_DOUBLE_COUNT_APP_STARTS = 1,
    QSEE_DOUBLE_COUNT_COMMANDS = 2,
    QSEE_DOUBLE_COUNT_ERROR_ANSWERS = 3,
    QSEE_DOUBLE_COUNT_OPEN_APPS = 4,
    QSEE_DOUBLE_COUNT_HIGH_BANDWIDTH = 5,
    QSEE_DOUBLE_COUNT_BANDWIDTH_RAISES = 6,
};

void fphal_qsee_double_reset(void);
int fphal_qsee_double_set_generation(const char *name);
void fphal_qsee_double_place_finger(uint32_t finger, int32_t capture_result);
void fphal_qsee_double_fail(uint32_t which, int64_t arg);
uint64_t fphal_qsee_double_count(uint32_t what);
void fphal_qsee_double_auth_key(uint8_t out[32]);
#endif
