/* fuzz/wire_fuzz.h: what the wire fuzz targets share: the property checks
 * every decoded message must pass. Header-only so that each target stays one
 * translation unit for libFuzzer, AFL++ and the ctest replay. */
#ifndef MC_FUZZ_WIRE_FUZZ_H
#define MC_FUZZ_WIRE_FUZZ_H

#include "engine/status.h"
#include "fuzz/wire_ref.h"
#include "net/wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static const mc_wire_limits_t fuzz_lim = {
    .max_frame = 1u << 20, .max_string = 4096, .max_repeat = 65536, .max_depth = 8};

/* Reads every field of a validated record through the accessors, which must
 * agree with each other: iteration yields mc_wire_count() values, the first
 * is mc_wire_get()'s, a RANGES value yields as many ascending, separated
 * ranges as it declares. Returns a digest so nothing is optimised away. */
static inline uint64_t walk(const mc_wire_rec_t *r, unsigned depth)
{
    uint64_t digest = r->len;
    CHECK(depth <= fuzz_lim.max_depth);
    /* the schema's fields (numbered from 1) and the first number past them;
     * each is a pass over the record, so no more than that */
    unsigned last = 1;
    while (mc_wire_kind(r, last) >= 0)
        last++;
    for (unsigned num = 1; num <= last; num++) {
        mc_wire_iter_t it;
        mc_wire_val_t v, first;
        uint32_t n = 0;
        bool has = mc_wire_get(r, num, &first);
        mc_wire_iter_init(&it, r, num);
        while (mc_wire_next(&it, &v)) {
            if (n == 0)
                CHECK(has && v.u == first.u && v.p == first.p && v.len == first.len);
            n++;
            digest = digest * 31 + v.u + v.len;
            if (v.p) {
                CHECK(v.p >= r->p && v.p + v.len <= r->p + r->len);
                int kind = mc_wire_kind(r, num);
                if (kind == MC_WK_MSG) {
                    mc_wire_rec_t sub = mc_wire_sub(r, num, &v);
                    CHECK(sub.schema && sub.p == v.p && sub.len == v.len);
                    digest ^= walk(&sub, depth + 1);
                } else if (kind == MC_WK_RANGES) {
                    mc_wire_field_info_t fi;
                    CHECK(mc_wire_field_get(r->schema, num, &fi));
                    uint64_t max = fi.max ? fi.max : MC_WIRE_RANGE_MAX;
                    mc_wire_ranges_t rr;
                    uint32_t declared = mc_wire_ranges_init(&rr, &v), seen = 0;
                    uint64_t b, e, prev = 0;
                    while (mc_wire_ranges_next(&rr, &b, &e)) {
                        CHECK(b <= e && e <= max);
                        CHECK(seen == 0 || b >= prev + 2);
                        prev = e;
                        seen++;
                        digest += b ^ e;
                    }
                    CHECK(seen == declared);
                }
            }
        }
        CHECK(has == (n > 0));
        CHECK(r->len > 1024 || n == mc_wire_count(r, num)); /* a third pass: small records */
    }
    return digest;
}

/* decode(encode(m)) == m: the canonical encoding of a decoded message decodes
 * to an equal message, whose canonical encoding is byte-identical. */
static inline void round_trip(const mc_wire_msg_t *m)
{
    size_t cap = (size_t)m->body.len + MC_WIRE_HEADER_SIZE + 64;
    uint8_t *a = malloc(cap), *b = malloc(cap);
    CHECK(a && b);
    mc_wire_writer_t w;
    mc_wire_writer_init(&w, a, cap);
    mc_wire_begin_frame(&w, m->hdr.type, m->hdr.flags, m->hdr.session);
    mc_wire_put_rec(&w, &m->body);
    int na = mc_wire_end_frame(&w);
    /* canonical never grows: it drops unknown fields and keeps the rest */
    CHECK(na > 0 && (size_t)na <= (size_t)m->body.len + MC_WIRE_HEADER_SIZE);
    mc_wire_msg_t m2;
    CHECK(mc_wire_decode(a, (size_t)na, &fuzz_lim, MC_TO_ANY, &m2, NULL) == na);
    CHECK(m2.hdr.type == m->hdr.type && m2.hdr.flags == m->hdr.flags &&
          m2.hdr.session == m->hdr.session);
    CHECK(mc_wire_rec_equal(&m->body, &m2.body) && mc_wire_rec_equal(&m2.body, &m->body));
    mc_wire_writer_init(&w, b, cap);
    mc_wire_begin_frame(&w, m2.hdr.type, m2.hdr.flags, m2.hdr.session);
    mc_wire_put_rec(&w, &m2.body);
    CHECK(mc_wire_end_frame(&w) == na && memcmp(a, b, (size_t)na) == 0);
    free(a);
    free(b);
}

/* Decodes @data as the body of one type of a family (the first byte picks
 * which) and checks the results. */
static inline int fuzz_family(const uint16_t *family, size_t ntypes, const uint8_t *data,
                              size_t size)
{
    if (size < 1)
        return 0;
    uint16_t type = family[data[0] % ntypes];
    mc_wire_rec_t rec;
    mc_wire_error_t err;
    int rc = mc_wire_decode_body(type, data + 1, size - 1, &fuzz_lim, &rec, &err);
    /* the decoder and a plain second reading of the spec agree */
    CHECK((rc == MC_OK) == ref_body(type, data + 1, size - 1, &fuzz_lim));
    if (rc != MC_OK) {
        CHECK(rc < 0 && err.code == rc && err.offset <= size - 1);
        CHECK(mc_err_name(rc)[0] != 'U'); /* a code from the table */
        return 0;
    }
    CHECK(rec.p == data + 1 && rec.len == size - 1);
    walk(&rec, 0);
    mc_wire_msg_t m = {.hdr = {.version = MC_WIRE_VERSION, .type = type, .session = 1},
                       .body = rec};
    round_trip(&m);
    return 0;
}

#endif
