/* cli/mesocore.c: the `mesocore` command and its subcommands. */
#include "cli/sim.h"
#include "engine/engine.h"
#include "engine/status.h"
#include "net/wire.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MC_VERSION
#define MC_VERSION "unknown"
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mesocore <command> [options]\n"
            "\n"
            "commands:\n"
            "  sim [--shards N] [--check] FILE|-\n"
            "                         run an allocation scenario in virtual time (docs/sim.md)\n"
            "  protocol               print the wire protocol's message tables (docs/protocol.md)\n"
            "  wire-dump FILE|-       print the wire frames in FILE field by field\n"
            "  version                print the version\n"
            "  help                   print this help\n");
}

static int cmd_sim(int argc, char **argv)
{
    struct mc_sim_options opt = {.shards = 1, .check = false};
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0) {
            opt.check = true;
        } else if (strcmp(argv[i], "--shards") == 0 || strncmp(argv[i], "--shards=", 9) == 0) {
            const char *v = argv[i][8] == '=' ? argv[i] + 9 : i + 1 < argc ? argv[++i] : "";
            char *end;
            unsigned long n = strtoul(v, &end, 10);
            if (!*v || *end || n < 1 || n > MC_ENGINE_MAX_SHARDS) {
                fprintf(stderr, "mesocore sim: --shards takes 1 to %u\n", MC_ENGINE_MAX_SHARDS);
                return 2;
            }
            opt.shards = (unsigned)n;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "mesocore sim: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (path) {
            fprintf(stderr, "mesocore sim: one scenario file at a time\n");
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fprintf(stderr, "mesocore sim: which scenario? (a FILE, or - for standard input)\n");
        return 2;
    }
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!in) {
        fprintf(stderr, "mesocore sim: cannot open '%s': ", path);
        perror(NULL);
        return 2;
    }
    int rc = mc_sim_run(in, in == stdin ? "<stdin>" : path, stdout, stderr, &opt);
    if (in != stdin)
        fclose(in);
    if (fflush(stdout) != 0 && rc == 0) {
        perror("mesocore sim: write error");
        rc = 1;
    }
    return rc;
}

/* mesocore wire-dump FILE|-: frames as text. Status 0 when every frame
 * decodes, 1 when one does not (the reason is printed), 2 on usage or I/O. */
static int cmd_wire_dump(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mesocore wire-dump FILE|-\n");
        return 2;
    }
    FILE *in = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "rb");
    if (!in) {
        fprintf(stderr, "mesocore wire-dump: cannot open '%s': ", argv[1]);
        perror(NULL);
        return 2;
    }
    const mc_wire_limits_t lim = MC_WIRE_LIMITS_DEFAULT;
    size_t n = 0, cap = 1 << 16;
    uint8_t *buf = malloc(cap);
    for (size_t got = 1; buf && got;) {
        if (n == cap) {
            uint8_t *p = cap < (size_t)1 << 31 ? realloc(buf, cap * 2) : NULL;
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
        got = fread(buf + n, 1, cap - n, in);
        n += got;
    }
    bool bad = !buf || ferror(in);
    if (in != stdin)
        fclose(in);
    if (bad) {
        fprintf(stderr, "mesocore wire-dump: cannot read '%s'\n", argv[1]);
        free(buf);
        return 2;
    }
    int rc = mc_wire_dump(stdout, buf, n, &lim);
    free(buf);
    if (fflush(stdout) != 0)
        return 2;
    return rc == MC_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "sim") == 0)
        return cmd_sim(argc - 1, argv + 1);
    if (strcmp(argv[1], "wire-dump") == 0)
        return cmd_wire_dump(argc - 1, argv + 1);
    if (strcmp(argv[1], "protocol") == 0) {
        mc_wire_spec_markdown(stdout);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("mesocore %s\n", MC_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "mesocore: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
