/* bionic's reader-writer lock: 56 bytes on LP64, 40 on 32-bit; all-zero is the static initializer. */
#pragma once
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
typedef struct {
#if defined(__LP64__)
    int32_t __private[14];
#else
    int32_t __private[10];
#endif
} pthread_rwlock_t;
#define PTHREAD_RWLOCK_INITIALIZER { { 0 } }
int pthread_rwlock_rdlock(pthread_rwlock_t *lock);
int pthread_rwlock_wrlock(pthread_rwlock_t *lock);
int pthread_rwlock_unlock(pthread_rwlock_t *lock);
#ifdef __cplusplus
}
#endif
