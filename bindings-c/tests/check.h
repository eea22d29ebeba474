/* A tiny check framework for the host tests: CHECK(cond), EXPECT(call, status), and a
 * record of every status seen (test_api asserts that each status the binding can return was
 * produced at least once). */
#ifndef TIDELOG_TEST_CHECK_H
#define TIDELOG_TEST_CHECK_H

#include <stdio.h>

#include "tidelog.h"

extern int check_failures;
extern unsigned char check_seen[128];

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);     \
            check_failures++;                                                            \
        }                                                                                \
    } while (0)

#define EXPECT(call, want)                                                               \
    do {                                                                                 \
        tl_status_t got_ = (call);                                                       \
        if (got_ >= 0 && got_ < 128) {                                                   \
            check_seen[got_] = 1;                                                        \
        }                                                                                \
        if (got_ != (want)) {                                                            \
            fprintf(stderr, "%s:%d: %s\n    returned %d (%s), expected %s (%d)\n",        \
                    __FILE__, __LINE__, #call, (int)got_, tl_strerror(got_), #want,      \
                    (int)(want));                                                        \
            check_failures++;                                                            \
        }                                                                                \
    } while (0)

#define OK(call) EXPECT(call, TL_OK)

#endif
