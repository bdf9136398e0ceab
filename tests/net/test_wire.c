/* tests/net/test_wire.c: the wire decoder, encoder and reassembler against
 * every class of bad input the protocol names (docs/protocol.md, "Limits"):
 * truncation, boundary lengths, overflow, varints, nesting, counts, fields,
 * strings, numbers and identifiers. Every decode reads from a copy placed
 * flush against a PROT_NONE page, so an over-read faults instead of passing. */
#include "tests/common/wire_samples.h"
#include "common/mc_test.h"
#include "engine/engine.h"
#include "engine/status.h"
#include "net/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const mc_wire_limits_t LIM = MC_WIRE_LIMITS_DEFAULT;

/* Writes sample frame @type (@size, @session) into @buf; returns its length. */
static int sample(uint8_t *buf, size_t cap, uint16_t type, unsigned size, uint64_t session)
{
    mc_wire_writer_t w;
    mc_wire_writer_init(&w, buf, cap);
    int n = mc_sample_frame(&w, type, size, session);
    assert_true(n > 0);
    return n;
}

/* ---- guarded buffers ------------------------------------------------------ */

struct guarded {
    uint8_t *map, *data;
    size_t maplen;
};

/* @n bytes of @src ending exactly where a PROT_NONE page begins */
static struct guarded guard(const void *src, size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t body = (n + page - 1) / page * page;
    struct guarded g = {.maplen = body + page};
    g.map = mmap(NULL, g.maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(g.map != MAP_FAILED);
    assert_int_equal(mprotect(g.map + body, page, PROT_NONE), 0);
    g.data = g.map + body - n;
    if (n)
        memcpy(g.data, src, n);
    return g;
}

static void unguard(struct guarded *g)
{
    munmap(g->map, g->maplen);
}

static int decode_guarded(const uint8_t *buf, size_t n, const mc_wire_limits_t *lim,
                          mc_wire_msg_t *msg)
{
    struct guarded g = guard(buf, n);
    int rc = mc_wire_decode(g.data, n, lim, MC_TO_ANY, msg, NULL);
    unguard(&g);
    return rc;
}

static int body_guarded(uint16_t type, const uint8_t *p, size_t n, mc_wire_error_t *err)
{
    struct guarded g = guard(p, n);
    mc_wire_rec_t rec;
    int rc = mc_wire_decode_body(type, g.data, n, &LIM, &rec, err);
    unguard(&g);
    return rc;
}

/* ---- a tiny byte builder for hand-made bodies -------------------------------- */

struct bytes {
    uint8_t b[4096];
    size_t n;
};

static void raw(struct bytes *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof b->b);
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void var(struct bytes *b, uint64_t v)
{
    do {
        uint8_t c = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        raw(b, &c, 1);
    } while (v);
}

static void fnum(struct bytes *b, unsigned num, uint64_t v)
{
    var(b, (uint64_t)num << 1);
    var(b, v);
}

static void fbytes(struct bytes *b, unsigned num, const void *p, size_t n)
{
    var(b, (uint64_t)num << 1 | 1);
    var(b, n);
    raw(b, p, n);
}

static void fstr(struct bytes *b, unsigned num, const char *s)
{
    fbytes(b, num, s, strlen(s));
}

static int body(uint16_t type, const struct bytes *b)
{
    return body_guarded(type, b->b, b->n, NULL);
}

/* ---- the schema and the samples ------------------------------------------- */

static void test_schema(void **state)
{
    assert_true(mc_wire_schema_ok());
    assert_true(mc_wire_limits_valid(&LIM));
    assert_string_equal(mc_wire_type_name(MC_MSG_OFFERS), "OFFERS");
    assert_null(mc_wire_type_name(0x7777));
    assert_string_equal(mc_err_name(MC_EMORE), "EMORE");
    /* the schema as tools see it */
    const struct mc_wire_schema *offers = mc_wire_type_schema(MC_MSG_OFFERS);
    mc_wire_field_info_t f;
    assert_true(mc_wire_field_get(offers, MC_OFFERS_OFFERS, &f));
    assert_true(f.kind == MC_WK_MSG && f.card == MC_WC_REP1 && f.sub);
    assert_true(mc_wire_field_get(f.sub, MC_OFFER_HOSTNAME, &f));
    assert_true(f.kind == MC_WK_STR && f.card == MC_WC_REQ && f.max == 255);
    assert_string_equal(f.name, "HOSTNAME");
    assert_false(mc_wire_field_get(offers, 2, &f));
    assert_null(mc_wire_type_schema(0x7777));
}

/* every sample decodes, its canonical copy decodes too, and the two are
 * equal (the samples write some fields out of number order, so the bytes
 * may differ; the canonical form of the copy is the copy itself) */
static void test_samples_round_trip(void **state)
{
    static uint8_t buf[1 << 20], again[1 << 20];
    for (unsigned i = 0; i < mc_sample_ntypes; i++) {
        for (unsigned size = 0; size < 4; size++) {
            mc_wire_writer_t w;
            mc_wire_writer_init(&w, buf, sizeof buf);
            int n = mc_sample_frame(&w, mc_sample_types[i], size, 77);
            assert_true(n >= MC_WIRE_HEADER_SIZE);
            mc_wire_msg_t m;
            mc_wire_error_t err;
            int rc = mc_wire_decode(buf, (size_t)n, &LIM, MC_TO_ANY, &m, &err);
            if (rc != n)
                fail_msg("%s size %u: %s at %u (%s.%u)", mc_wire_type_name(mc_sample_types[i]),
                         size, mc_err_name(rc), err.offset, err.record ? err.record : "-",
                         err.field);
            assert_int_equal(m.hdr.type, mc_sample_types[i]);
            assert_int_equal(m.hdr.session, 77);
            mc_wire_writer_t w2;
            mc_wire_writer_init(&w2, again, sizeof again);
            mc_wire_begin_frame(&w2, m.hdr.type, m.hdr.flags, m.hdr.session);
            mc_wire_put_rec(&w2, &m.body);
            int n2 = mc_wire_end_frame(&w2);
            assert_true(n2 >= MC_WIRE_HEADER_SIZE && n2 <= n);
            mc_wire_msg_t m2;
            assert_int_equal(mc_wire_decode(again, (size_t)n2, &LIM, MC_TO_ANY, &m2, NULL), n2);
            assert_true(mc_wire_rec_equal(&m.body, &m2.body));
            static uint8_t third[1 << 20];
            mc_wire_writer_init(&w2, third, sizeof third);
            mc_wire_begin_frame(&w2, m2.hdr.type, m2.hdr.flags, m2.hdr.session);
            mc_wire_put_rec(&w2, &m2.body);
            assert_int_equal(mc_wire_end_frame(&w2), n2);
            assert_memory_equal(third, again, (size_t)n2);
        }
    }
}

/* records that differ anywhere, however deep, are not equal */
static void test_rec_equal(void **state)
{
    static uint8_t a[1 << 16], b[1 << 16];
    int na = sample(a, sizeof a, MC_MSG_OFFERS, 2, 1);
    memcpy(b, a, (size_t)na);
    mc_wire_msg_t ma, mb;
    assert_int_equal(mc_wire_decode(a, (size_t)na, &LIM, MC_TO_ANY, &ma, NULL), na);
    assert_int_equal(mc_wire_decode(b, (size_t)na, &LIM, MC_TO_ANY, &mb, NULL), na);
    assert_true(mc_wire_rec_equal(&ma.body, &mb.body));
    /* one port range of the second offer one port shorter: the span's varint
     * (49, one byte) becomes 48; "ports" then the ranges field follow */
    uint8_t *ports = NULL;
    for (int i = na - 5; i > 0 && !ports; i--)
        if (memcmp(b + i, "ports", 5) == 0)
            ports = b + i;
    assert_non_null(ports);
    uint8_t *span = ports + 5 + 2 + 1 + 3; /* key, length, count, first gap */
    assert_int_equal(*span, 49);
    *span = 48;
    assert_int_equal(mc_wire_decode(b, (size_t)na, &LIM, MC_TO_ANY, &mb, NULL), na);
    assert_false(mc_wire_rec_equal(&ma.body, &mb.body));
}

/* the values of a typical offer batch, read back through the accessors */
static void test_offer_values(void **state)
{
    static uint8_t buf[1 << 16];
    int n = sample(buf, sizeof buf, MC_MSG_OFFERS, 3, 5);
    mc_wire_msg_t m;
    assert_int_equal(mc_wire_decode(buf, (size_t)n, &LIM, MC_TO_FRAMEWORK, &m, NULL), n);
    assert_int_equal(mc_wire_count(&m.body, MC_OFFERS_OFFERS), 3);
    mc_wire_iter_t it;
    mc_wire_val_t v;
    unsigned k = 0;
    mc_wire_iter_init(&it, &m.body, MC_OFFERS_OFFERS);
    while (mc_wire_next(&it, &v)) {
        mc_wire_rec_t offer = mc_wire_sub(&m.body, MC_OFFERS_OFFERS, &v);
        assert_string_equal(mc_wire_rec_name(&offer), "OFFER");
        mc_wire_val_t id, res;
        assert_true(mc_wire_get(&offer, MC_OFFER_AGENT_ID, &id));
        char want[32];
        snprintf(want, sizeof want, "agent-%04u", k);
        assert_int_equal(id.len, strlen(want));
        assert_memory_equal(id.p, want, id.len);
        /* the ports resource: 17 ranges of 50 ports, 10 apart */
        mc_wire_iter_t ri;
        mc_wire_iter_init(&ri, &offer, MC_OFFER_RESOURCES);
        bool seen_ports = false;
        while (mc_wire_next(&ri, &res)) {
            mc_wire_rec_t r = mc_wire_sub(&offer, MC_OFFER_RESOURCES, &res);
            mc_wire_val_t name, rv;
            assert_true(mc_wire_get(&r, MC_RESOURCE_NAME, &name));
            if (name.len == 5 && memcmp(name.p, "ports", 5) == 0) {
                assert_true(mc_wire_get(&r, MC_RESOURCE_RANGES, &rv));
                mc_wire_ranges_t rr;
                assert_int_equal(mc_wire_ranges_init(&rr, &rv), 17);
                uint64_t b, e;
                for (unsigned i = 0; i < 17; i++) {
                    assert_true(mc_wire_ranges_next(&rr, &b, &e));
                    assert_int_equal(b, 31000 + 60 * i);
                    assert_int_equal(e, 31049 + 60 * i);
                }
                assert_false(mc_wire_ranges_next(&rr, &b, &e));
                seen_ports = true;
            } else if (name.len == 4 && memcmp(name.p, "cpus", 4) == 0) {
                assert_true(mc_wire_get(&r, MC_RESOURCE_SCALAR, &rv));
                assert_int_equal(rv.u, 24000);
            }
        }
        assert_true(seen_ports);
        k++;
    }
    assert_int_equal(k, 3);
}

/* ---- header ------------------------------------------------------------------ */

static size_t frame(uint8_t *out, uint16_t type, uint8_t flags, uint32_t length,
                    const struct bytes *b)
{
    mc_wire_header_encode(out, &(mc_wire_header_t){.version = MC_WIRE_VERSION,
                                                   .flags = flags,
                                                   .type = type,
                                                   .length = length,
                                                   .session = 9});
    if (b)
        memcpy(out + MC_WIRE_HEADER_SIZE, b->b, b->n);
    return MC_WIRE_HEADER_SIZE + (b ? b->n : 0);
}

static void test_header(void **state)
{
    uint8_t f[64];
    mc_wire_msg_t m;
    frame(f, MC_MSG_TEARDOWN, 0, 0, NULL);
    /* length 0: a whole frame when the body needs no field */
    assert_int_equal(decode_guarded(f, 20, &LIM, &m), 20);
    /* every shorter prefix needs more bytes */
    for (size_t k = 0; k < 20; k++)
        assert_int_equal(decode_guarded(f, k, &LIM, &m), MC_EMORE);
    /* garbage fails on its first byte, not after 20 */
    uint8_t g = 'G';
    assert_int_equal(decode_guarded(&g, 1, &LIM, &m), MC_EMAGIC);
    f[1] = 'X';
    assert_int_equal(decode_guarded(f, 2, &LIM, &m), MC_EMAGIC);
    frame(f, MC_MSG_TEARDOWN, 0, 0, NULL);
    f[2] = 2;
    assert_int_equal(decode_guarded(f, 20, &LIM, &m), MC_EVERSION);
    frame(f, MC_MSG_TEARDOWN, 0x80, 0, NULL);
    assert_int_equal(decode_guarded(f, 20, &LIM, &m), MC_EFIELD); /* reserved flag */
    frame(f, MC_MSG_TEARDOWN, 0, 0, NULL);
    f[7] = 1;
    assert_int_equal(decode_guarded(f, 20, &LIM, &m), MC_EFIELD); /* reserved bytes */
    assert_int_equal(decode_guarded(f, 7, &LIM, &m), MC_EMORE);
    assert_int_equal(decode_guarded(f, 8, &LIM, &m), MC_EFIELD); /* as soon as it arrives */
    frame(f, MC_MSG_TEARDOWN, 0, 0, NULL);
    f[6] = 1;
    assert_int_equal(decode_guarded(f, 7, &LIM, &m), MC_EFIELD);
    frame(f, MC_MSG_TEARDOWN, 0x02, 0, NULL);
    assert_int_equal(decode_guarded(f, 4, &LIM, &m), MC_EFIELD); /* a reserved flag, at once */
    /* limits the receiver passes are checked too */
    assert_int_equal(decode_guarded(f, 20, &(mc_wire_limits_t){.max_frame = 10}, &m), MC_EINVAL);
    frame(f, MC_MSG_TEARDOWN, MC_WIRE_FLAG_MORE, 0, NULL);
    assert_int_equal(decode_guarded(f, 20, &LIM, &m), 20);
    assert_int_equal(m.hdr.flags, MC_WIRE_FLAG_MORE);
    /* lengths: the limit is fine (more bytes needed), limit + 1 is refused as
     * soon as the length is present, and so is UINT32_MAX (no overflow) */
    frame(f, MC_MSG_TEARDOWN, 0, LIM.max_frame - 20, NULL);
    assert_int_equal(decode_guarded(f, 20, &LIM, &m), MC_EMORE);
    frame(f, MC_MSG_TEARDOWN, 0, LIM.max_frame - 19, NULL);
    assert_int_equal(decode_guarded(f, 12, &LIM, &m), MC_ELIMIT);
    frame(f, MC_MSG_TEARDOWN, 0, UINT32_MAX, NULL);
    assert_int_equal(decode_guarded(f, 20, &LIM, &m), MC_ELIMIT);
    /* a configured limit */
    mc_wire_limits_t small = LIM;
    small.max_frame = 64;
    small.max_string = 64;
    frame(f, MC_MSG_TEARDOWN, 0, 44, NULL);
    assert_int_equal(decode_guarded(f, 20, &small, &m), MC_EMORE);
    frame(f, MC_MSG_TEARDOWN, 0, 45, NULL);
    assert_int_equal(decode_guarded(f, 20, &small, &m), MC_ELIMIT);
    /* unknown type and wrong direction: MC_ETYPE with the header readable */
    frame(f, 0x0777, 0, 0, NULL);
    assert_int_equal(decode_guarded(f, 20, &LIM, &m), MC_ETYPE);
    assert_int_equal(m.hdr.type, 0x0777);
    struct bytes b = {0};
    fstr(&b, MC_AGENT_REGISTERED_AGENT_ID, "a1");
    size_t n = frame(f, MC_MSG_AGENT_REGISTERED, 0, (uint32_t)b.n, &b);
    assert_int_equal(mc_wire_decode(f, n, &LIM, MC_TO_AGENT, &m, NULL), (int)n);
    assert_int_equal(mc_wire_decode(f, n, &LIM, MC_TO_MASTER, &m, NULL), MC_ETYPE);
    assert_false(mc_wire_limits_valid(&(mc_wire_limits_t){.max_frame = 10}));
}

/* ---- truncation at every byte offset ------------------------------------------- */

static void test_truncation(void **state)
{
    static uint8_t buf[1 << 16];
    for (unsigned i = 0; i < mc_sample_ntypes; i++) {
        mc_wire_writer_t w;
        mc_wire_writer_init(&w, buf, sizeof buf);
        int n = mc_sample_frame(&w, mc_sample_types[i], 2, 1);
        assert_true(n > 0);
        mc_wire_msg_t m;
        for (int k = 0; k < n; k++) /* a cut frame always needs more */
            assert_int_equal(decode_guarded(buf, (size_t)k, &LIM, &m), MC_EMORE);
        /* a cut body (the header's length shrunk to match) is either still a
         * valid message, cut at a field boundary, or a clean error */
        size_t blen = (size_t)n - MC_WIRE_HEADER_SIZE;
        for (size_t k = 0; k < blen; k++) {
            mc_wire_error_t err;
            int rc = body_guarded(mc_sample_types[i], buf + MC_WIRE_HEADER_SIZE, k, &err);
            assert_true(rc == MC_OK || rc == MC_ETRUNC || rc == MC_EMISSING || rc == MC_EVARINT ||
                        rc == MC_EFIELD || rc == MC_ESTRING || rc == MC_EID || rc == MC_ERANGE);
            if (rc != MC_OK)
                assert_int_equal(err.code, rc);
            assert_true(err.offset <= k);
        }
    }
}

/* ---- varints ------------------------------------------------------------------- */

static void test_varints(void **state)
{
    struct bytes b = {0};
    /* PING.seq as 0x80 0x00: a non-minimal zero */
    var(&b, MC_PING_SEQ << 1);
    raw(&b, "\x80\x00", 2);
    assert_int_equal(body(MC_MSG_PING, &b), MC_EVARINT);
    /* 1 written in two bytes */
    b.n = 0;
    var(&b, MC_PING_SEQ << 1);
    raw(&b, "\x81\x00", 2);
    assert_int_equal(body(MC_MSG_PING, &b), MC_EVARINT);
    /* a non-minimal key */
    b.n = 0;
    raw(&b, "\x82\x00\x05", 3);
    assert_int_equal(body(MC_MSG_PING, &b), MC_EVARINT);
    /* UINT64_MAX in ten bytes is fine; a tenth byte above 1 overflows */
    b.n = 0;
    fnum(&b, MC_PING_SEQ, UINT64_MAX);
    assert_int_equal(b.n, 11);
    assert_int_equal(body(MC_MSG_PING, &b), MC_OK);
    b.b[10] = 0x02;
    assert_int_equal(body(MC_MSG_PING, &b), MC_EVARINT);
    /* eleven bytes */
    b.n = 0;
    var(&b, MC_PING_SEQ << 1);
    raw(&b, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81\x01", 11);
    assert_int_equal(body(MC_MSG_PING, &b), MC_EVARINT);
    /* a varint cut by the end of the body */
    b.n = 0;
    var(&b, MC_PING_SEQ << 1);
    raw(&b, "\xff\xff", 2);
    assert_int_equal(body(MC_MSG_PING, &b), MC_ETRUNC);
}

/* ---- lengths, counts and overflow ----------------------------------------------- */

static void test_lengths(void **state)
{
    struct bytes b = {0};
    char s[300];
    memset(s, 'h', sizeof s);
    /* hostname: 255 bytes is the limit, 256 is one past; 0 is valid UTF-8 */
    fbytes(&b, MC_AGENT_REGISTER_HOSTNAME, s, 255);
    assert_int_equal(body(MC_MSG_AGENT_REGISTER, &b), MC_OK);
    b.n = 0;
    fbytes(&b, MC_AGENT_REGISTER_HOSTNAME, s, 256);
    assert_int_equal(body(MC_MSG_AGENT_REGISTER, &b), MC_ELIMIT);
    b.n = 0;
    fbytes(&b, MC_AGENT_REGISTER_HOSTNAME, s, 0);
    assert_int_equal(body(MC_MSG_AGENT_REGISTER, &b), MC_OK);
    /* IDs: 128 is the limit, 0 is not an ID */
    b.n = 0;
    fbytes(&b, MC_RESCIND_OFFER_ID, s, 128);
    assert_int_equal(body(MC_MSG_RESCIND, &b), MC_OK);
    b.n = 0;
    fbytes(&b, MC_RESCIND_OFFER_ID, s, 129);
    assert_int_equal(body(MC_MSG_RESCIND, &b), MC_ELIMIT);
    b.n = 0;
    fbytes(&b, MC_RESCIND_OFFER_ID, s, 0);
    assert_int_equal(body(MC_MSG_RESCIND, &b), MC_EID);
    /* a declared length beyond the bytes present: 1, UINT32_MAX, UINT64_MAX */
    uint64_t lens[] = {2, UINT32_MAX, UINT64_MAX, (uint64_t)1 << 63};
    for (unsigned i = 0; i < 4; i++) {
        b.n = 0;
        var(&b, MC_RESCIND_OFFER_ID << 1 | 1);
        var(&b, lens[i]);
        raw(&b, "x", 1);
        assert_int_equal(body(MC_MSG_RESCIND, &b), MC_ETRUNC);
    }
    /* the same inside a nested record: the inner length passes the outer end */
    b.n = 0;
    var(&b, MC_UPDATE_STATUS << 1 | 1);
    var(&b, 4);
    var(&b, MC_STATUS_TASK_ID << 1 | 1);
    var(&b, 9);
    raw(&b, "ab", 2);
    fstr(&b, 2, "tail-is-not-inside");
    assert_int_equal(body(MC_MSG_UPDATE, &b), MC_ETRUNC);
    /* repeated counts: OFFER_IDS in DECLINE up to max_repeat; ACCEPT caps at 1024 */
    static struct bytes big;
    big.n = 0;
    for (unsigned i = 0; i < 1025; i++)
        fstr(&big, MC_ACCEPT_OFFER_IDS, "o");
    assert_int_equal(body(MC_MSG_ACCEPT, &big), MC_ELIMIT);
    big.n = 0;
    for (unsigned i = 0; i < 1024; i++)
        fstr(&big, MC_ACCEPT_OFFER_IDS, "o");
    assert_int_equal(body(MC_MSG_ACCEPT, &big), MC_OK);
    /* a repeated limit set lower by the receiver */
    mc_wire_limits_t lim = LIM;
    lim.max_repeat = 10;
    mc_wire_rec_t rec;
    assert_int_equal(mc_wire_decode_body(MC_MSG_ACCEPT, big.b, big.n, &lim, &rec, NULL), MC_ELIMIT);
}

static void test_ranges(void **state)
{
    struct bytes b = {0}, r = {0};
    /* ports [1-2], [5-9] */
    var(&r, 2);
    var(&r, 1), var(&r, 1); /* [1, 2] */
    var(&r, 1), var(&r, 4); /* start 2 + 2 + 1 = 5, [5, 9] */
    fstr(&b, MC_RESOURCE_NAME, "ports");
    fbytes(&b, MC_RESOURCE_RANGES, r.b, r.n);
    struct bytes upd = {0};
    fbytes(&upd, MC_AGENT_UPDATE_RESOURCES, b.b, b.n);
    assert_int_equal(body(MC_MSG_AGENT_UPDATE, &upd), MC_OK);
    mc_wire_rec_t rec, res;
    assert_int_equal(mc_wire_decode_body(MC_MSG_AGENT_UPDATE, upd.b, upd.n, &LIM, &rec, NULL),
                     MC_OK);
    mc_wire_val_t v;
    assert_true(mc_wire_get(&rec, MC_AGENT_UPDATE_RESOURCES, &v));
    res = mc_wire_sub(&rec, MC_AGENT_UPDATE_RESOURCES, &v);
    assert_true(mc_wire_get(&res, MC_RESOURCE_RANGES, &v));
    mc_wire_ranges_t it;
    uint64_t lo, hi;
    assert_int_equal(mc_wire_ranges_init(&it, &v), 2);
    assert_true(mc_wire_ranges_next(&it, &lo, &hi));
    assert_true(lo == 1 && hi == 2);
    assert_true(mc_wire_ranges_next(&it, &lo, &hi));
    assert_true(lo == 5 && hi == 9);

    struct {
        uint64_t vals[8];
        unsigned n;
        int want;
    } cases[] = {
        /* a declared count far beyond the bytes present, checked before the walk */
        {{60000, 1, 1}, 3, MC_ETRUNC},
        {{UINT64_MAX, 1, 1}, 3, MC_ELIMIT},
        /* count above max_repeat */
        {{65537}, 1, MC_ELIMIT},
        /* start + span past 2^62, and wrapping past 2^64 */
        {{1, (UINT64_C(1) << 62), 1}, 3, MC_ERANGE},
        {{1, 5, UINT64_MAX}, 3, MC_ERANGE},
        {{2, 1, 1, UINT64_MAX - 1, 1}, 5, MC_ERANGE},
        {{2, 0, (UINT64_C(1) << 62) - 1, 0, 0}, 5, MC_ERANGE},
        /* the last range may end at the maximum */
        {{1, 0, UINT64_C(1) << 62}, 3, MC_OK},
        /* bytes left after the last pair */
        {{1, 1, 1, 7}, 4, MC_EFIELD},
        {{0}, 1, MC_OK},
    };
    for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        r.n = b.n = upd.n = 0;
        for (unsigned i = 0; i < cases[c].n; i++)
            var(&r, cases[c].vals[i]);
        fstr(&b, MC_RESOURCE_NAME, "ports");
        fbytes(&b, MC_RESOURCE_RANGES, r.b, r.n);
        fbytes(&upd, MC_AGENT_UPDATE_RESOURCES, b.b, b.n);
        if (body(MC_MSG_AGENT_UPDATE, &upd) != cases[c].want)
            fail_msg("ranges case %u: %s, want %s", c, mc_err_name(body(MC_MSG_AGENT_UPDATE, &upd)),
                     mc_err_name(cases[c].want));
    }
}

/* ---- fields: duplicate, unknown, missing, wire type, groups ------------------- */

static void test_fields(void **state)
{
    struct bytes b = {0};
    fnum(&b, MC_PING_SEQ, 1);
    fnum(&b, MC_PING_SEQ, 2);
    assert_int_equal(body(MC_MSG_PING, &b), MC_EDUP);
    b.n = 0;
    fnum(&b, MC_PING_TIME_NS, 2);
    assert_int_equal(body(MC_MSG_PING, &b), MC_EMISSING);
    /* unknown fields of both wire types are skipped; the message equals the
     * one without them */
    b.n = 0;
    fnum(&b, 40, 123456);
    fnum(&b, MC_PING_SEQ, 7);
    fstr(&b, 200, "from a newer peer");
    mc_wire_rec_t with, without;
    assert_int_equal(mc_wire_decode_body(MC_MSG_PING, b.b, b.n, &LIM, &with, NULL), MC_OK);
    struct bytes c = {0};
    fnum(&c, MC_PING_SEQ, 7);
    assert_int_equal(mc_wire_decode_body(MC_MSG_PING, c.b, c.n, &LIM, &without, NULL), MC_OK);
    assert_true(mc_wire_rec_equal(&with, &without));
    c.n = 0;
    fnum(&c, MC_PING_SEQ, 8);
    assert_int_equal(mc_wire_decode_body(MC_MSG_PING, c.b, c.n, &LIM, &without, NULL), MC_OK);
    assert_false(mc_wire_rec_equal(&with, &without)); /* equality sees values */
    /* field 0 and numbers past 255 are malformed */
    b.n = 0;
    fnum(&b, 0, 1);
    assert_int_equal(body(MC_MSG_PING, &b), MC_EFIELD);
    b.n = 0;
    fnum(&b, 256, 1);
    assert_int_equal(body(MC_MSG_PING, &b), MC_EFIELD);
    /* wrong wire type: a string where a number belongs and the reverse */
    b.n = 0;
    fstr(&b, MC_PING_SEQ, "7");
    assert_int_equal(body(MC_MSG_PING, &b), MC_EFIELD);
    b.n = 0;
    fnum(&b, MC_RESCIND_OFFER_ID, 7);
    assert_int_equal(body(MC_MSG_RESCIND, &b), MC_EFIELD);
    /* a resource has exactly one value: none, and two, are refused */
    struct bytes r = {0}, u = {0};
    fstr(&r, MC_RESOURCE_NAME, "cpus");
    fbytes(&u, MC_AGENT_UPDATE_RESOURCES, r.b, r.n);
    assert_int_equal(body(MC_MSG_AGENT_UPDATE, &u), MC_EMISSING);
    fnum(&r, MC_RESOURCE_SCALAR, 1000);
    u.n = 0;
    fbytes(&u, MC_AGENT_UPDATE_RESOURCES, r.b, r.n);
    assert_int_equal(body(MC_MSG_AGENT_UPDATE, &u), MC_OK);
    fstr(&r, MC_RESOURCE_ITEM, "a");
    u.n = 0;
    fbytes(&u, MC_AGENT_UPDATE_RESOURCES, r.b, r.n);
    assert_int_equal(body(MC_MSG_AGENT_UPDATE, &u), MC_EDUP);
    /* error reports say where */
    mc_wire_error_t err;
    assert_int_equal(body_guarded(MC_MSG_AGENT_UPDATE, u.b, u.n, &err), MC_EDUP);
    assert_string_equal(err.record, "RESOURCE");
    /* a required nested record */
    b.n = 0;
    assert_int_equal(body(MC_MSG_UPDATE, &b), MC_EMISSING);
}

/* ---- nesting ------------------------------------------------------------------- */

static void test_nesting(void **state)
{
    static uint8_t buf[1 << 16];
    int n = sample(buf, sizeof buf, MC_MSG_AGENT_REREGISTER, 2, 1); /* depth 2: tasks.resources */
    mc_wire_limits_t lim = LIM;
    mc_wire_msg_t m;
    assert_int_equal(mc_wire_decode(buf, (size_t)n, &lim, MC_TO_ANY, &m, NULL), n);
    lim.max_depth = 1;
    assert_int_equal(mc_wire_decode(buf, (size_t)n, &lim, MC_TO_ANY, &m, NULL), MC_EDEPTH);
    /* deep nesting inside an unknown field is skipped as bytes: no recursion,
     * whatever the depth */
    static struct bytes deep;
    size_t levels = 1000;
    uint8_t chain[8192]; /* field 9 holding field 9 holding ..., inside out */
    size_t len = 0;
    for (size_t i = 0; i < levels; i++) {
        uint8_t hdr[12];
        size_t h = 0;
        hdr[h++] = 9 << 1 | 1;
        uint64_t l = len;
        do {
            uint8_t c = l & 0x7f;
            l >>= 7;
            hdr[h++] = c | (l ? 0x80 : 0);
        } while (l);
        assert_true(h + len <= sizeof chain);
        memmove(chain + h, chain, len);
        memcpy(chain, hdr, h);
        len += h;
    }
    deep.n = 0;
    fnum(&deep, MC_PING_SEQ, 1);
    raw(&deep, chain, len);
    assert_int_equal(body(MC_MSG_PING, &deep), MC_OK);
}

/* ---- strings, identifiers and numbers ----------------------------------------- */

static void test_strings(void **state)
{
    static const struct {
        const char *s;
        size_t n;
        int ok;
    } cases[] = {
        {"plain", 5, 1},
        {"caf\xc3\xa9", 5, 1},
        {"\xe2\x82\xac", 3, 1},     /* U+20AC */
        {"\xf0\x9f\x9a\x80", 4, 1}, /* U+1F680 */
        {"\xf4\x8f\xbf\xbf", 4, 1}, /* U+10FFFF */
        {"a\0b", 3, 0},             /* embedded NUL */
        {"\xc0\x80", 2, 0},         /* overlong NUL */
        {"\xc1\xbf", 2, 0},         /* overlong */
        {"\xe0\x80\xaf", 3, 0},     /* overlong '/' */
        {"\xed\xa0\x80", 3, 0},     /* surrogate */
        {"\xf4\x90\x80\x80", 4, 0}, /* past U+10FFFF */
        {"\xf5\x80\x80\x80", 4, 0},
        {"\x80", 1, 0},     /* lone continuation */
        {"\xc3", 1, 0},     /* cut at the end */
        {"\xe2\x82", 2, 0}, /* cut at the end */
        {"\xe2\x28\xa1", 3, 0},
        {"\xff", 1, 0},
        /* past the eight-bytes-at-a-time fast path */
        {"abcdefghijklmnop", 16, 1},
        {"abcdefgh\0ijk", 12, 0},
        {"abc\0defghijk", 12, 0}, /* a NUL inside an eight-byte window */
        {"abcdefghij\xc3\xa9klmnopq", 19, 1},
        {"abcdefghijklmno\xff", 16, 0},
        {"abcdefghijklmnop\xed\xa0\x80", 19, 0},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct bytes b = {0};
        fnum(&b, MC_ERROR_CODE, 1);
        fbytes(&b, MC_ERROR_MESSAGE, cases[i].s, cases[i].n);
        int rc = body(MC_MSG_ERROR, &b);
        if (rc != (cases[i].ok ? MC_OK : MC_ESTRING))
            fail_msg("string case %u: %s", i, mc_err_name(rc));
    }
}

static void test_ids(void **state)
{
    static const struct {
        const char *s;
        int id_ok, role_ok;
    } cases[] = {
        {"fw-42", 1, 1},   {"a.b_c-D9", 1, 1}, {"a/b", 0, 1},   {"..", 0, 0},   {".", 0, 0},
        {"a:b", 0, 0},     {"a@b", 0, 0},      {"a+b=c", 0, 0}, {"a..b", 0, 0}, {"../etc", 0, 0},
        {"a/../b", 0, 0},  {"/a", 0, 0},       {"a/", 0, 0},    {"a//b", 0, 0}, {"a b", 0, 0},
        {"a\nb", 0, 0},    {"a\\b", 0, 0},     {"*", 0, 1},     {"a/*", 0, 0},  {"\xc3\xa9", 0, 0},
        {".hidden", 1, 1}, {"a/.", 0, 0},      {"", 0, 0},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct bytes b = {0};
        fstr(&b, MC_RESCIND_OFFER_ID, cases[i].s);
        int rc = body(MC_MSG_RESCIND, &b);
        if (rc != (cases[i].id_ok ? MC_OK : MC_EID))
            fail_msg("id case %u '%s': %s", i, cases[i].s, mc_err_name(rc));
        b.n = 0;
        fstr(&b, MC_REVIVE_ROLES, cases[i].s);
        rc = body(MC_MSG_REVIVE, &b);
        if (rc != (cases[i].role_ok ? MC_OK : MC_EID))
            fail_msg("role case %u '%s': %s", i, cases[i].s, mc_err_name(rc));
        /* what the wire accepts, the engine accepts ("*" is the wire's name
         * for the default role) */
        size_t n = strlen(cases[i].s);
        if (cases[i].id_ok)
            assert_true(mc_id_valid(cases[i].s, n));
        if (cases[i].role_ok && strcmp(cases[i].s, "*") != 0)
            assert_true(mc_role_name_valid(cases[i].s, n));
    }
    /* role segments are IDs of at most 128 bytes, the whole at most 255 */
    char role[300];
    memset(role, 'r', sizeof role);
    struct bytes rb = {0};
    fbytes(&rb, MC_REVIVE_ROLES, role, 128);
    assert_int_equal(body(MC_MSG_REVIVE, &rb), MC_OK);
    rb.n = 0;
    fbytes(&rb, MC_REVIVE_ROLES, role, 129);
    assert_int_equal(body(MC_MSG_REVIVE, &rb), MC_EID);
    role[128] = '/';
    rb.n = 0;
    fbytes(&rb, MC_REVIVE_ROLES, role, 255);
    assert_int_equal(body(MC_MSG_REVIVE, &rb), MC_OK);
    assert_true(mc_role_name_valid(role, 255));
    rb.n = 0;
    fbytes(&rb, MC_REVIVE_ROLES, role, 256);
    assert_int_equal(body(MC_MSG_REVIVE, &rb), MC_ELIMIT);
    /* an ID with an embedded NUL */
    struct bytes b = {0};
    fbytes(&b, MC_RESCIND_OFFER_ID, "a\0b", 3);
    assert_int_equal(body(MC_MSG_RESCIND, &b), MC_EID);
}

static void test_numbers(void **state)
{
    struct bytes r = {0}, u = {0};
    /* quantities are fixed-point thousandths: no NaN or infinity can be
     * written; an IEEE double's bytes sent instead are a wrong wire type */
    static const uint8_t nan_bits[8] = {0, 0, 0, 0, 0, 0, 0xf8, 0x7f};
    static const uint8_t inf_bits[8] = {0, 0, 0, 0, 0, 0, 0xf0, 0x7f};
    const uint8_t *floats[] = {nan_bits, inf_bits};
    for (unsigned i = 0; i < 2; i++) {
        r.n = u.n = 0;
        fstr(&r, MC_RESOURCE_NAME, "cpus");
        fbytes(&r, MC_RESOURCE_SCALAR, floats[i], 8);
        fbytes(&u, MC_AGENT_UPDATE_RESOURCES, r.b, r.n);
        assert_int_equal(body(MC_MSG_AGENT_UPDATE, &u), MC_EFIELD);
    }
    /* negative (two's complement as unsigned) and huge quantities */
    uint64_t qty[] = {UINT64_MAX, (uint64_t)INT64_MAX + 1, (uint64_t)-1000};
    for (unsigned i = 0; i < 3; i++) {
        r.n = u.n = 0;
        fstr(&r, MC_RESOURCE_NAME, "mem");
        fnum(&r, MC_RESOURCE_SCALAR, qty[i]);
        fbytes(&u, MC_AGENT_UPDATE_RESOURCES, r.b, r.n);
        assert_int_equal(body(MC_MSG_AGENT_UPDATE, &u), MC_ERANGE);
    }
    r.n = u.n = 0;
    fstr(&r, MC_RESOURCE_NAME, "mem");
    fnum(&r, MC_RESOURCE_SCALAR, INT64_MAX);
    fbytes(&u, MC_AGENT_UPDATE_RESOURCES, r.b, r.n);
    assert_int_equal(body(MC_MSG_AGENT_UPDATE, &u), MC_OK);
    /* durations: 365 days is the most; more, or negative, is refused */
    struct bytes d = {0};
    fstr(&d, MC_DECLINE_OFFER_IDS, "o1");
    size_t base = d.n;
    fnum(&d, MC_DECLINE_REFUSE_MS, MC_WIRE_MS_MAX);
    assert_int_equal(body(MC_MSG_DECLINE, &d), MC_OK);
    d.n = base;
    fnum(&d, MC_DECLINE_REFUSE_MS, MC_WIRE_MS_MAX + 1);
    assert_int_equal(body(MC_MSG_DECLINE, &d), MC_ERANGE);
    d.n = base;
    fnum(&d, MC_DECLINE_REFUSE_MS, (uint64_t)-5000);
    assert_int_equal(body(MC_MSG_DECLINE, &d), MC_ERANGE);
    /* enums and booleans */
    struct bytes s = {0};
    fstr(&s, MC_STATUS_TASK_ID, "t");
    fstr(&s, MC_STATUS_FRAMEWORK_ID, "f");
    base = s.n;
    fnum(&s, MC_STATUS_STATE, MC_TASK_STATE_MAX + 1);
    struct bytes up = {0};
    fbytes(&up, MC_UPDATE_STATUS, s.b, s.n);
    assert_int_equal(body(MC_MSG_UPDATE, &up), MC_ERANGE);
    s.n = base;
    fnum(&s, MC_STATUS_STATE, MC_TASK_KILLED);
    fnum(&s, MC_STATUS_HEALTHY, 2);
    up.n = 0;
    fbytes(&up, MC_UPDATE_STATUS, s.b, s.n);
    assert_int_equal(body(MC_MSG_UPDATE, &up), MC_ERANGE);
    /* a UUID is exactly 16 bytes */
    struct bytes a = {0};
    fstr(&a, MC_ACKNOWLEDGE_AGENT_ID, "a");
    fstr(&a, MC_ACKNOWLEDGE_TASK_ID, "t");
    fbytes(&a, MC_ACKNOWLEDGE_UUID, "0123456789abcde", 15);
    assert_int_equal(body(MC_MSG_ACKNOWLEDGE, &a), MC_EFIELD);
}

/* ---- the writer ------------------------------------------------------------------ */

static void test_writer(void **state)
{
    uint8_t small[40];
    mc_wire_writer_t w;
    mc_wire_writer_init(&w, small, sizeof small);
    mc_wire_begin_frame(&w, MC_MSG_ERROR, 0, 1);
    mc_wire_put_u64(&w, MC_ERROR_CODE, 3);
    mc_wire_put_str(&w, MC_ERROR_MESSAGE, "this message does not fit in forty bytes");
    mc_wire_put_u64(&w, MC_ERROR_TYPE, 3);
    assert_int_equal(mc_wire_end_frame(&w), MC_ELIMIT);
    /* ranges not encodable: adjacent ones, and ones at the top of the value
     * space, where the order check must not wrap */
    uint8_t buf[256];
    const uint64_t bad[][2][2] = {{{5, 9}, {10, 12}}, {{UINT64_MAX - 1, UINT64_MAX - 1}, {0, 3}}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mc_wire_writer_init(&w, buf, sizeof buf);
        mc_wire_begin_frame(&w, MC_MSG_AGENT_UPDATE, 0, 1);
        mc_wire_put_ranges(&w, MC_RESOURCE_RANGES, bad[i], 2);
        assert_int_equal(mc_wire_end_frame(&w), MC_EINVAL);
    }
    /* an unbalanced record */
    mc_wire_writer_init(&w, buf, sizeof buf);
    mc_wire_begin_frame(&w, MC_MSG_UPDATE, 0, 1);
    mc_wire_begin(&w, MC_UPDATE_STATUS);
    assert_int_equal(mc_wire_end_frame(&w), MC_EINVAL);
    /* a scalar resource, with and without a reservation */
    mc_wire_writer_init(&w, buf, sizeof buf);
    mc_wire_begin_frame(&w, MC_MSG_AGENT_UPDATE, 0, 1);
    mc_wire_put_scalar(&w, MC_AGENT_UPDATE_RESOURCES, "cpus", 1500, NULL);
    mc_wire_put_scalar(&w, MC_AGENT_UPDATE_RESOURCES, "mem", 64000, "eng/ml");
    int ns = mc_wire_end_frame(&w);
    mc_wire_msg_t ms;
    assert_int_equal(mc_wire_decode(buf, (size_t)ns, &LIM, MC_TO_MASTER, &ms, NULL), ns);
    mc_wire_iter_t ri;
    mc_wire_val_t rv, fv;
    mc_wire_iter_init(&ri, &ms.body, MC_AGENT_UPDATE_RESOURCES);
    for (unsigned k = 0; k < 2; k++) {
        assert_true(mc_wire_next(&ri, &rv));
        mc_wire_rec_t r = mc_wire_sub(&ms.body, MC_AGENT_UPDATE_RESOURCES, &rv);
        assert_true(mc_wire_get(&r, MC_RESOURCE_NAME, &fv));
        assert_memory_equal(fv.p, k ? "mem" : "cpus", fv.len);
        assert_true(mc_wire_get(&r, MC_RESOURCE_SCALAR, &fv));
        assert_int_equal(fv.u, k ? 64000 : 1500);
        assert_int_equal(mc_wire_get(&r, MC_RESOURCE_ROLE, &fv), k == 1);
        if (k)
            assert_memory_equal(fv.p, "eng/ml", fv.len);
    }
    assert_false(mc_wire_next(&ri, &rv));
    /* reserved flags are not written */
    mc_wire_writer_init(&w, buf, sizeof buf);
    mc_wire_begin_frame(&w, MC_MSG_TEARDOWN, 0x80, 1);
    assert_int_equal(mc_wire_end_frame(&w), MC_EINVAL);
    /* a batch of up to 1,024 tasks is one frame; more is refused by the
     * receiver (the count limit), not mangled by the writer */
    static uint8_t big[1 << 21];
    for (unsigned size = 1; size <= 4096; size *= 8) {
        mc_wire_writer_init(&w, big, sizeof big);
        int n = mc_sample_frame(&w, MC_MSG_AGENT_LAUNCH, size, 3);
        assert_true(n > 0);
        mc_wire_msg_t m;
        assert_int_equal(mc_wire_decode(big, (size_t)n, &LIM, MC_TO_AGENT, &m, NULL),
                         size <= 1024 ? n : MC_ELIMIT);
        if (size <= 1024)
            assert_int_equal(mc_wire_count(&m.body, MC_AGENT_LAUNCH_TASKS), size);
    }
    /* nested lengths of one, two and three bytes: a task whose environment
     * holds 0, 1 or 5 values of 4,000 bytes (the record moves right as its
     * length grows; its contents must come through intact) */
    static char value[4001];
    memset(value, 'v', 4000);
    for (unsigned nenv = 0; nenv <= 5; nenv += nenv ? 4 : 1) {
        mc_wire_writer_init(&w, big, sizeof big);
        mc_wire_begin_frame(&w, MC_MSG_AGENT_LAUNCH, 0, 3);
        mc_wire_put_str(&w, MC_AGENT_LAUNCH_FRAMEWORK_ID, "fw");
        mc_wire_begin(&w, MC_AGENT_LAUNCH_TASKS);
        mc_wire_put_str(&w, MC_TASK_TASK_ID, "t");
        mc_wire_put_str(&w, MC_TASK_AGENT_ID, "a");
        mc_wire_begin(&w, MC_TASK_RESOURCES);
        mc_wire_put_str(&w, MC_RESOURCE_NAME, "cpus");
        mc_wire_put_u64(&w, MC_RESOURCE_SCALAR, 1000);
        mc_wire_end(&w);
        for (unsigned k = 0; k < nenv; k++) {
            mc_wire_begin(&w, MC_TASK_ENV);
            mc_wire_put_str(&w, MC_ENV_NAME, "V");
            mc_wire_put_str(&w, MC_ENV_VALUE, value);
            mc_wire_end(&w);
        }
        mc_wire_end(&w);
        mc_wire_put_u64(&w, 99, 7); /* an unknown field after the record */
        int n = mc_wire_end_frame(&w);
        assert_true(n > 0);
        mc_wire_msg_t m;
        assert_int_equal(mc_wire_decode(big, (size_t)n, &LIM, MC_TO_AGENT, &m, NULL), n);
        mc_wire_val_t tv, ev;
        assert_true(mc_wire_get(&m.body, MC_AGENT_LAUNCH_TASKS, &tv));
        assert_true(tv.len >= (nenv == 5 ? 16384u : nenv == 1 ? 128u : 0u));
        mc_wire_rec_t task = mc_wire_sub(&m.body, MC_AGENT_LAUNCH_TASKS, &tv);
        assert_int_equal(mc_wire_count(&task, MC_TASK_ENV), nenv);
        mc_wire_iter_t it;
        mc_wire_iter_init(&it, &task, MC_TASK_ENV);
        while (mc_wire_next(&it, &ev)) {
            mc_wire_rec_t env = mc_wire_sub(&task, MC_TASK_ENV, &ev);
            mc_wire_val_t val;
            assert_true(mc_wire_get(&env, MC_ENV_VALUE, &val));
            assert_int_equal(val.len, 4000);
            assert_memory_equal(val.p, value, 4000);
        }
    }
}

/* values are only read as what the decoder checked them to be */
static void test_accessors_check_values(void **state)
{
    static uint8_t buf[1 << 16];
    int n = sample(buf, sizeof buf, MC_MSG_OFFERS, 1, 1);
    mc_wire_msg_t m;
    assert_int_equal(mc_wire_decode(buf, (size_t)n, &LIM, MC_TO_ANY, &m, NULL), n);
    mc_wire_val_t ov, hv, miss;
    assert_true(mc_wire_get(&m.body, MC_OFFERS_OFFERS, &ov));
    mc_wire_rec_t offer = mc_wire_sub(&m.body, MC_OFFERS_OFFERS, &ov);
    assert_non_null(offer.schema);
    assert_true(mc_wire_get(&offer, MC_OFFER_HOSTNAME, &hv));
    /* a string is not a record, nor ranges; a value of one field is not
     * another's; a value of another record is not this one's */
    assert_null(mc_wire_sub(&offer, MC_OFFER_RESOURCES, &hv).schema);
    mc_wire_ranges_t rr;
    assert_int_equal(mc_wire_ranges_init(&rr, &hv), 0);
    assert_null(mc_wire_sub(&offer, MC_OFFER_ATTRIBUTES, &ov).schema);
    assert_null(mc_wire_sub(&offer, MC_OFFERS_OFFERS, &ov).schema);
    /* a miss leaves an empty value */
    miss.p = buf;
    miss.len = 9;
    assert_false(mc_wire_get(&offer, 40, &miss));
    assert_true(miss.p == NULL && miss.len == 0 && miss.kind == MC_WK_UNKNOWN);
}

/* ---- the stream reassembler ----------------------------------------------------- */

/* n sample frames of every type, back to back */
static size_t sample_stream(uint8_t *buf, size_t cap, unsigned rounds)
{
    mc_wire_writer_t w;
    mc_wire_writer_init(&w, buf, cap);
    for (unsigned r = 0; r < rounds; r++)
        for (unsigned i = 0; i < mc_sample_ntypes; i++)
            assert_true(mc_sample_frame(&w, mc_sample_types[i], r % 3, i) > 0);
    return w.len;
}

static unsigned feed(mc_wire_stream_t *s, const uint8_t *data, size_t n, size_t chunk)
{
    unsigned frames = 0;
    size_t off = 0;
    while (off < n) {
        uint8_t *p;
        size_t room = mc_wire_stream_space(s, &p);
        assert_true(room > 0);
        size_t k = n - off < chunk ? n - off : chunk;
        k = k < room ? k : room;
        memcpy(p, data + off, k);
        mc_wire_stream_commit(s, k);
        off += k;
        mc_wire_msg_t m;
        int rc;
        while ((rc = mc_wire_stream_next(s, &m, NULL)) == 1) {
            assert_int_equal(m.hdr.type, mc_sample_types[frames % mc_sample_ntypes]);
            frames++;
        }
        assert_int_equal(rc, 0);
    }
    return frames;
}

static void test_stream(void **state)
{
    static uint8_t data[1 << 20];
    size_t n = sample_stream(data, sizeof data, 6);
    size_t chunks[] = {1, 2, 3, 7, 19, 20, 21, 64, 1000, 65536, n};
    for (unsigned c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        mc_wire_stream_t s;
        assert_int_equal(mc_wire_stream_init(&s, &LIM, MC_TO_ANY), MC_OK);
        assert_int_equal(feed(&s, data, n, chunks[c]), 6 * mc_sample_ntypes);
        mc_wire_stream_fini(&s);
    }
}

/* a stream may start small: it grows for a bigger frame and shrinks back */
static void test_stream_sized(void **state)
{
    mc_wire_stream_t s;
    assert_int_equal(mc_wire_stream_init_sized(&s, &LIM, MC_TO_ANY, 63), MC_EINVAL);
    mc_wire_limits_t bad = LIM;
    bad.max_frame = 10;
    assert_int_equal(mc_wire_stream_init(&s, &bad, MC_TO_ANY), MC_EINVAL);
    assert_int_equal(mc_wire_stream_init_sized(&s, &LIM, MC_TO_ANY, 64), MC_OK);
    static uint8_t data[1 << 16];
    size_t n = sample_stream(data, sizeof data, 2); /* frames up to a few KB */
    size_t top = 0, off = 0;
    unsigned frames = 0;
    while (off < n) {
        uint8_t *p;
        size_t room = mc_wire_stream_space(&s, &p);
        assert_true(room > 0);
        size_t k = n - off < 7 ? n - off : 7;
        k = k < room ? k : room;
        memcpy(p, data + off, k);
        mc_wire_stream_commit(&s, k);
        off += k;
        top = s.cap > top ? s.cap : top;
        mc_wire_msg_t m;
        while (mc_wire_stream_next(&s, &m, NULL) == 1)
            frames++;
    }
    assert_int_equal(frames, 2 * mc_sample_ntypes);
    assert_true(top > 64);
    uint8_t *p;
    assert_true(mc_wire_stream_space(&s, &p) > 0);
    assert_int_equal(s.cap, 64);
    mc_wire_stream_fini(&s);
    assert_int_equal(mc_wire_stream_next(&s, &(mc_wire_msg_t){0}, NULL), MC_EINVAL);

    /* a failed init is reported by every call, not a silent 0 */
    assert_int_equal(mc_wire_stream_init_sized(&s, &LIM, MC_TO_ANY, 8), MC_EINVAL);
    assert_int_equal(mc_wire_stream_space(&s, &p), 0);
    assert_int_equal(mc_wire_stream_next(&s, &(mc_wire_msg_t){0}, NULL), MC_EINVAL);

    /* more than the room given loses the stream */
    assert_int_equal(mc_wire_stream_init_sized(&s, &LIM, MC_TO_ANY, 64), MC_OK);
    assert_int_equal(mc_wire_stream_space(&s, &p), 64);
    mc_wire_stream_commit(&s, 65);
    assert_int_equal(mc_wire_stream_next(&s, &(mc_wire_msg_t){0}, NULL), MC_EINVAL);
    mc_wire_stream_fini(&s);

    /* a full buffer of garbage, room asked before reading: the header
     * check in space() reports it */
    assert_int_equal(mc_wire_stream_init_sized(&s, &LIM, MC_TO_ANY, 64), MC_OK);
    assert_int_equal(mc_wire_stream_space(&s, &p), 64);
    memset(p, 'G', 64);
    mc_wire_stream_commit(&s, 64);
    assert_int_equal(mc_wire_stream_space(&s, &p), 0);
    assert_int_equal(s.err, MC_EMAGIC);
    mc_wire_stream_fini(&s);

    /* a peer announcing a 4 MiB frame holds memory in step with what it
     * sends: the buffer at most doubles each time it fills */
    assert_int_equal(mc_wire_stream_init_sized(&s, &LIM, MC_TO_ANY, 64), MC_OK);
    uint8_t hdr[64] = {0};
    frame(hdr, MC_MSG_OFFERS, 0, LIM.max_frame - MC_WIRE_HEADER_SIZE, NULL);
    size_t sent = 0, prev = s.cap;
    while (sent < 100000) {
        size_t room = mc_wire_stream_space(&s, &p);
        assert_true(room > 0);
        assert_true(s.cap <= 2 * prev && s.cap <= 2 * (sent > 64 ? sent : 64));
        prev = s.cap;
        size_t k = sent == 0 ? 20 : room;
        memcpy(p, sent == 0 ? hdr : (const uint8_t *)data, k < sizeof data ? k : sizeof data);
        if (k > sizeof data)
            k = sizeof data;
        mc_wire_stream_commit(&s, k);
        sent += k;
        assert_int_equal(mc_wire_stream_next(&s, &(mc_wire_msg_t){0}, NULL), 0);
    }
    assert_true(s.cap < 4 * sent);
    mc_wire_stream_fini(&s);
}

/* a frame bigger than the initial buffer makes it grow to that frame's size
 * and no more; a header asking for more than max_frame is refused before any
 * allocation, and the stream stays failed */
static void test_stream_limits(void **state)
{
    static uint8_t big[1 << 21];
    mc_wire_writer_t w;
    mc_wire_writer_init(&w, big, sizeof big);
    int n = mc_sample_frame(&w, MC_MSG_OFFERS, 1500, 1);
    assert_true(n > 65536);
    mc_wire_stream_t s;
    assert_int_equal(mc_wire_stream_init(&s, &LIM, MC_TO_FRAMEWORK), MC_OK);
    size_t off = 0, top = 0;
    mc_wire_msg_t m;
    int got = 0;
    while (off < (size_t)n) {
        uint8_t *p;
        size_t room = mc_wire_stream_space(&s, &p);
        assert_true(room > 0);
        size_t k = (size_t)n - off < 4000 ? (size_t)n - off : 4000;
        k = k < room ? k : room;
        memcpy(p, big + off, k);
        mc_wire_stream_commit(&s, k);
        off += k;
        top = s.cap > top ? s.cap : top;
        got = mc_wire_stream_next(&s, &m, NULL);
    }
    assert_int_equal(got, 1);
    assert_int_equal(top, (size_t)n);
    assert_int_equal(mc_wire_count(&m.body, MC_OFFERS_OFFERS), 1500);
    uint8_t *p;
    assert_true(mc_wire_stream_space(&s, &p) > 0);
    assert_int_equal(s.cap, 65536); /* shrunk back once drained */
    /* a wrong-direction frame is skipped, reported, and the stream goes on */
    uint8_t f[64];
    frame(f, MC_MSG_ACCEPT, 0, 0, NULL);
    mc_wire_writer_init(&w, f + 20, sizeof f - 20);
    mc_wire_begin_frame(&w, MC_MSG_RESCIND, 0, 4);
    mc_wire_put_str(&w, MC_RESCIND_OFFER_ID, "o1");
    int n2 = mc_wire_end_frame(&w);
    memcpy(p, f, 20 + (size_t)n2);
    mc_wire_stream_commit(&s, 20 + (size_t)n2);
    assert_int_equal(mc_wire_stream_next(&s, &m, NULL), MC_ETYPE);
    assert_int_equal(m.hdr.type, MC_MSG_ACCEPT);
    assert_int_equal(mc_wire_stream_next(&s, &m, NULL), 1);
    assert_int_equal(m.hdr.type, MC_MSG_RESCIND);
    assert_int_equal(mc_wire_stream_next(&s, &m, NULL), 0);
    /* a buffer full of whole frames asks for them to be read first */
    mc_wire_writer_init(&w, f, sizeof f);
    mc_wire_begin_frame(&w, MC_MSG_RESCIND, 0, 4);
    mc_wire_put_str(&w, MC_RESCIND_OFFER_ID, "o1");
    size_t fl = (size_t)mc_wire_end_frame(&w);
    size_t room;
    unsigned queued = 0;
    while ((room = mc_wire_stream_space(&s, &p)) > 0) {
        size_t k = room < fl ? room : fl;
        memcpy(p, f, k);
        mc_wire_stream_commit(&s, k);
        queued += k == fl;
    }
    assert_int_equal(s.tail, s.cap);
    assert_int_equal(s.err, MC_OK);
    unsigned drained = 0;
    while (mc_wire_stream_next(&s, &m, NULL) == 1)
        drained++;
    assert_int_equal(drained, queued);
    size_t part = 65536 % fl;
    assert_true(part > 0);
    assert_true(mc_wire_stream_space(&s, &p) > 0); /* the cut frame moved to the front */
    assert_true(s.head == 0 && s.tail == part && p == s.buf + part);
    memcpy(p, f + part, fl - part);
    mc_wire_stream_commit(&s, fl - part);
    assert_int_equal(mc_wire_stream_next(&s, &m, NULL), 1);
    assert_int_equal(m.hdr.type, MC_MSG_RESCIND);
    assert_int_equal(mc_wire_stream_next(&s, &m, NULL), 0);
    assert_true(mc_wire_stream_space(&s, &p) > 0);
    /* 1 GiB announced: refused from the header, the buffer never grows */
    frame(f, MC_MSG_OFFERS, 0, 1u << 30, NULL);
    assert_true(mc_wire_stream_space(&s, &p) >= 20);
    memcpy(p, f, 20);
    mc_wire_stream_commit(&s, 20);
    assert_int_equal(mc_wire_stream_next(&s, &m, NULL), MC_ELIMIT);
    assert_int_equal(s.cap, 65536);
    assert_int_equal(mc_wire_stream_next(&s, &m, NULL), MC_ELIMIT); /* sticky */
    assert_int_equal(mc_wire_stream_space(&s, &p), 0);
    mc_wire_stream_fini(&s);
    /* malformed body: the connection's stream fails, nothing else */
    assert_int_equal(mc_wire_stream_init(&s, &LIM, MC_TO_ANY), MC_OK);
    struct bytes b = {0};
    fnum(&b, MC_PING_SEQ, 1);
    fnum(&b, MC_PING_SEQ, 1);
    size_t fn = frame(f, MC_MSG_PING, 0, (uint32_t)b.n, &b);
    assert_true(mc_wire_stream_space(&s, &p) >= fn);
    memcpy(p, f, fn);
    mc_wire_stream_commit(&s, fn);
    mc_wire_error_t err;
    assert_int_equal(mc_wire_stream_next(&s, &m, &err), MC_EDUP);
    assert_int_equal(err.type, MC_MSG_PING);
    assert_int_equal(err.field, MC_PING_SEQ);
    mc_wire_stream_fini(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema),       cmocka_unit_test(test_samples_round_trip),
        cmocka_unit_test(test_offer_values), cmocka_unit_test(test_rec_equal),
        cmocka_unit_test(test_header),       cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_varints),      cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_ranges),       cmocka_unit_test(test_fields),
        cmocka_unit_test(test_nesting),      cmocka_unit_test(test_strings),
        cmocka_unit_test(test_ids),          cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_writer),       cmocka_unit_test(test_accessors_check_values),
        cmocka_unit_test(test_stream),       cmocka_unit_test(test_stream_limits),
        cmocka_unit_test(test_stream_sized),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
