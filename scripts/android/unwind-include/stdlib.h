#pragma once
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
void abort(void) __attribute__((noreturn));
char *getenv(const char *name);
void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void *realloc(void *p, size_t size);
void free(void *p);
#ifdef __cplusplus
}
#endif
