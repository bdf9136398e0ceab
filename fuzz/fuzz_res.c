/* fuzz/fuzz_res.c: the resource-vector text parser (engine/res.c), which
 * reads operator- and client-supplied text. Properties checked on every input:
 *   - parsing never crashes, never reads past the input, never leaks;
 *   - a vector that parses is valid (R1-R4) and its canonical text parses
 *     back to an equal vector, whose text is the same (round trip);
 *   - split at the first '|': a and b obey the algebra: a + b contains both,
 *     (a + b) - b == a, and a - b succeeds exactly when a contains b. */
#include "engine/res.h"
#include "engine/status.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static void roundtrip(const mc_res_t *r)
{
    CHECK(mc_res_valid(r));
    char *text = mc_res_str(r);
    if (!text)
        return;
    mc_res_t again = MC_RES_INIT;
    CHECK(mc_res_parse(&again, text, strlen(text), NULL) == MC_OK);
    CHECK(mc_res_equal(r, &again));
    char *text2 = mc_res_str(&again);
    CHECK(!text2 || strcmp(text, text2) == 0);
    free(text2);
    free(text);
    mc_res_fini(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *bar = memchr(s, '|', size);
    size_t na = bar ? (size_t)(bar - s) : size;
    mc_res_t a = MC_RES_INIT, b = MC_RES_INIT, sum = MC_RES_INIT;
    const char *why = NULL;
    int ra = mc_res_parse(&a, s, na, &why);
    CHECK(ra <= 0 && why);
    if (ra == MC_OK)
        roundtrip(&a);
    else
        CHECK(mc_res_empty(&a));
    if (bar && ra == MC_OK && mc_res_parse(&b, bar + 1, size - na - 1, NULL) == MC_OK) {
        roundtrip(&b);
        if (mc_res_copy(&sum, &a) == MC_OK && mc_res_add(&sum, &b) == MC_OK) {
            roundtrip(&sum);
            CHECK(mc_res_contains(&sum, &a) && mc_res_contains(&sum, &b));
            /* (a + b) - b == a holds for scalars; for ranges only when a and b
             * do not overlap, so check containment instead */
            CHECK(mc_res_sub(&sum, &b) == MC_OK);
            CHECK(mc_res_contains(&a, &sum));
        }
        mc_res_t diff = MC_RES_INIT;
        if (mc_res_copy(&diff, &a) == MC_OK) {
            int rc = mc_res_sub(&diff, &b);
            CHECK(rc == MC_ENOMEM || (rc == MC_OK) == mc_res_contains(&a, &b));
            if (rc == MC_OK) {
                roundtrip(&diff);
                CHECK(mc_res_add(&diff, &b) != MC_OK || mc_res_equal(&diff, &a));
            } else {
                roundtrip(&diff); /* unchanged on error */
                CHECK(mc_res_equal(&diff, &a));
            }
        }
        mc_res_fini(&diff);
    }
    mc_res_fini(&a);
    mc_res_fini(&b);
    mc_res_fini(&sum);
    return 0;
}
