/* fuzz/fuzz_sim.c: whole scenarios through the simulator (cli/sim.c) and so
 * through every engine API call, with the books checked after every command
 * (--check) and on 1 or 2 shards. Properties: no crash, no leak, no hang;
 * the only ways out are status 0 (ran) and 2 (a line was refused); a check
 * failure is a broken invariant and traps. */
#include "cli/sim.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MC_FUZZ_MAX_INPUT 8192 /* keeps every input to a few milliseconds */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > MC_FUZZ_MAX_INPUT)
        return 0;
    FILE *in = fmemopen((void *)(data + 1), size - 1, "r");
    FILE *out = fopen("/dev/null", "w");
    char *errbuf = NULL;
    size_t errlen = 0;
    FILE *err = open_memstream(&errbuf, &errlen);
    if (!in || !out || !err) {
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        if (err)
            fclose(err);
        free(errbuf);
        return 0;
    }
    /* one input in eight on two shards: starting worker threads is slow */
    struct mc_sim_options opt = {.shards = (data[0] & 7) ? 1u : 2u, .check = true, .max_run = 50};
    int rc = mc_sim_run(in, "fuzz", out, err, &opt);
    fclose(in);
    fclose(out);
    fclose(err);
    if (rc != 0 && rc != 2)
        __builtin_trap(); /* out of memory on an 8 KB scenario: a leak or a runaway */
    if (rc == 2 && errbuf && strstr(errbuf, "check failed"))
        __builtin_trap(); /* the books did not balance */
    free(errbuf);
    return 0;
}
