/* errno as bionic exposes it: through __errno() (exported since API 3). */
#pragma once
#ifdef __cplusplus
extern "C" {
#endif
int *__errno(void);
#define errno (*__errno())
#define EFAULT 14
#define EINVAL 22
#ifdef __cplusplus
}
#endif
