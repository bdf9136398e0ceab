/* tests/common/mc_test.h: helpers shared by the cmocka tests. */
#ifndef MC_TESTS_COMMON_H
#define MC_TESTS_COMMON_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "engine/res.h"
#include "engine/status.h"

/* Parses @text into @r and fails the test if it does not parse. */
static inline void mc_test_res(mc_res_t *r, const char *text)
{
    const char *why = NULL;
    int rc = mc_res_parse(r, text, strlen(text), &why);
    if (rc)
        fail_msg("parse '%s': %s (%s)", text, mc_strerror(rc), why);
    assert_true(mc_res_valid(r));
}

/* Asserts the canonical text of @r. */
#define mc_assert_res(r, want)                                                                     \
    do {                                                                                           \
        char buf_[4096];                                                                           \
        mc_res_format((r), buf_, sizeof(buf_));                                                    \
        assert_string_equal(buf_, (want));                                                         \
    } while (0)

#endif
