/* assert() as bionic defines it: a failed check calls __assert2 (exported since API 3). */
#pragma once
#ifdef __cplusplus
extern "C" {
#endif
#ifdef NDEBUG
#define assert(e) ((void)0)
#else
void __assert2(const char *file, int line, const char *function, const char *expression) __attribute__((noreturn));
#define assert(e) ((e) ? (void)0 : __assert2(__FILE__, __LINE__, __func__, #e))
#endif
#ifdef __cplusplus
}
#endif
