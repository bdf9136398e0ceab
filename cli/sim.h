/* cli/sim.h: the scenario simulator (`mesocore sim`), format in docs/sim.md.
 *
 * Drives the real engine in virtual time from a scenario script. Output goes
 * to @out as each command completes; errors go to @err as
 * "sim: line N: message". */
#ifndef MC_CLI_SIM_H
#define MC_CLI_SIM_H
#include <stdbool.h>
#include <stdio.h>

struct mc_sim_options {
    unsigned shards; /* allocation shards (1 = sequential) */
    bool check;      /* verify the books after every command */
    unsigned max_run; /* most cycles one `run` may do (0: 10000) */
};

/* Runs the scenario read from @in. Returns 0 on success, 2 when a line cannot
 * be parsed or an operation is invalid (after printing the error), 1 on an
 * internal failure (out of memory). */
int mc_sim_run(FILE *in, const char *name, FILE *out, FILE *err, const struct mc_sim_options *opt);

#endif
