/* tests/net/wire_seeds.c: writes the wire fuzz targets' seed corpora from the
 * encoder's sample frames (tests/common/wire_samples.h).
 *   usage: wire_seeds DIR     (writes DIR/wire_<target>/<name>) */
#include "tests/common/wire_samples.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *dir;

static void put(const char *target, const char *name, const void *a, size_t na, const void *b,
                size_t nb)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/wire_%s", dir, target);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/wire_%s/%s", dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(a, 1, na, f) != na || (nb && fwrite(b, 1, nb, f) != nb) || fclose(f)) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: wire_seeds DIR\n");
        return 2;
    }
    dir = argv[1];
    static uint8_t buf[1 << 20], stream[1 << 20];
    size_t slen = 0;
    unsigned index[3] = {0, 0, 0};
    for (unsigned i = 0; i < mc_sample_ntypes; i++) {
        uint16_t type = mc_sample_types[i];
        const char *fam = type < 0x100 ? "conn" : type < 0x200 ? "agent" : "framework";
        unsigned f = type < 0x100 ? 0 : type < 0x200 ? 1 : 2;
        for (unsigned size = 0; size < 3; size++) {
            mc_wire_writer_t w;
            mc_wire_writer_init(&w, buf, sizeof buf);
            int n = mc_sample_frame(&w, type, size, 1 + i);
            if (n <= 0) {
                fprintf(stderr, "wire_seeds: sample %s: %d\n", mc_wire_type_name(type), n);
                return 1;
            }
            char name[64];
            snprintf(name, sizeof name, "%s-%u", mc_wire_type_name(type), size);
            uint8_t pick = (uint8_t)index[f];
            put(fam, name, &pick, 1, buf + MC_WIRE_HEADER_SIZE, (size_t)n - MC_WIRE_HEADER_SIZE);
            put("roundtrip", name, buf, (size_t)n, NULL, 0);
            if (size == 0)
                put("header", name, buf, (size_t)n, NULL, 0);
            if (size < 2 && slen + (size_t)n <= sizeof stream) {
                memcpy(stream + slen, buf, (size_t)n);
                slen += (size_t)n;
            }
        }
        index[f]++;
    }
    /* the stream target: two bytes seed the read sizes, one the initial
     * buffer size (64 + 4 x byte), then frames */
    uint8_t seed[3] = {0x12, 0x34, 0xff};
    put("stream", "all-types", seed, 3, stream, slen);
    put("stream", "first-frames", seed, 3, stream, slen / 8);
    seed[2] = 0; /* a 64-byte buffer: compaction and growth */
    put("stream", "small-buffer", seed, 3, stream, slen / 4);
    return 0;
}
