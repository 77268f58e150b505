/* bionic's sigset_t: one unsigned long (64 signals on LP64, 32 on 32-bit). */
#pragma once
typedef unsigned long sigset_t;
/* 64 kernel signals plus one, as bionic defines it. */
#define NSIG 65
