/* The one system call number the unwinder uses (to probe whether an address is readable). */
#pragma once
#if defined(__aarch64__)
#define SYS_rt_sigprocmask 135
#elif defined(__x86_64__)
#define SYS_rt_sigprocmask 14
#elif defined(__arm__)
#define SYS_rt_sigprocmask 175
#elif defined(__i386__)
#define SYS_rt_sigprocmask 175
#endif
