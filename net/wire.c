/* net/wire.c: frame header, schema tables, validating decoder, accessors,
 * writer and canonical copy. The format is docs/protocol.md. */
#include "net/wire.h"
#include "engine/status.h"

#include <stdio.h>
#include <string.h>

/* ---- schema tables (generated from net/msg.h) ---------------------------- */

static const char *const kind_names[] = {"U64", "BOOL", "ENUM", "QTY",    "MS", "STR",
                                         "ID",  "ROLE", "UUID", "RANGES", "MSG"};

enum wire_card {
    CARD_OPT = MC_WC_OPT,
    CARD_REQ = MC_WC_REQ,
    CARD_REP = MC_WC_REP,
    CARD_REP1 = MC_WC_REP1,
};
static const char *const card_names[] = {"OPT", "REQ", "REP", "REP1"};

struct mc_wire_field {
    const char *name;
    uint8_t num;
    uint8_t kind, card, group;
    uint32_t max_count;
    uint64_t max;
    const struct mc_wire_schema *sub;
};

struct mc_wire_schema {
    const char *name;
    unsigned nfields;
    const struct mc_wire_field *fields; /* fields[i] has number i + 1 */
};

#define SUB_NONE NULL
#define MC__FIELD_ROW(rec, num_, name_, kind_, card_, group_, maxcount, max_, sub_)                \
    {.name = #name_,                                                                               \
     .num = num_,                                                                                  \
     .kind = MC_WK_##kind_,                                                                        \
     .card = CARD_##card_,                                                                         \
     .group = group_,                                                                              \
     .max_count = maxcount,                                                                        \
     .max = max_,                                                                                  \
     .sub = SUB_##sub_},
#define MC__SCHEMA_DECL(rec) static const struct mc_wire_schema schema_##rec;
MC_WIRE_RECORDS(MC__SCHEMA_DECL)
#define SUB_RESOURCE  &schema_RESOURCE
#define SUB_ATTRIBUTE &schema_ATTRIBUTE
#define SUB_NUMA_NODE &schema_NUMA_NODE
#define SUB_ENV       &schema_ENV
#define SUB_TASK      &schema_TASK
#define SUB_STATUS    &schema_STATUS
#define SUB_RUNNING   &schema_RUNNING
#define SUB_OFFER     &schema_OFFER
#define SUB_TASKREF   &schema_TASKREF
#define MC__SCHEMA_DEF(rec)                                                                        \
    static const struct mc_wire_field fields_##rec[] = {MC_WIRE_REC_##rec(MC__FIELD_ROW){0}};      \
    static const struct mc_wire_schema schema_##rec = {                                            \
        #rec, sizeof fields_##rec / sizeof fields_##rec[0] - 1, fields_##rec};
MC_WIRE_RECORDS(MC__SCHEMA_DEF)

/* Field numbers are dense from 1 and records have at most MC_WIRE_MAX_FIELDS. */
#define MC__REC_CHECK(rec)                                                                         \
    _Static_assert(MC__##rec##_END - 1 <= MC_WIRE_MAX_FIELDS, #rec " has too many fields");        \
    _Static_assert(MC__##rec##_END - 1 == sizeof fields_##rec / sizeof fields_##rec[0] - 1,        \
                   #rec " field numbers are not dense");
MC_WIRE_RECORDS(MC__REC_CHECK)

struct wire_type {
    uint16_t code;
    uint8_t to;
    const char *name, *family;
    const struct mc_wire_schema *schema;
};
static const struct wire_type types[] = {
#define MC__TYPE_ROW(code_, name_, dir, fam)                                                       \
    {.code = code_, .to = MC_TO_##dir, .name = #name_, .family = #fam, .schema = &schema_##name_},
    MC_WIRE_TYPES(MC__TYPE_ROW)
#undef MC__TYPE_ROW
};
#define NTYPES (sizeof types / sizeof types[0])

static const struct wire_type *type_find(uint16_t code)
{
    /* families are contiguous ranges: 0x00xx, 0x01xx, 0x02xx */
    size_t lo = 0, hi = NTYPES;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (types[mid].code < code)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < NTYPES && types[lo].code == code ? &types[lo] : NULL;
}

const char *mc_wire_type_name(uint16_t type)
{
    const struct wire_type *t = type_find(type);
    return t ? t->name : NULL;
}

const char *mc_wire_rec_name(const mc_wire_rec_t *r)
{
    return r->schema ? r->schema->name : NULL;
}

bool mc_wire_limits_valid(const mc_wire_limits_t *lim)
{
    return lim->max_frame >= MC_WIRE_FRAME_MIN && lim->max_frame <= MC_WIRE_FRAME_MAX &&
           lim->max_string >= 1 && lim->max_string <= lim->max_frame && lim->max_repeat >= 1 &&
           lim->max_depth >= 1 && lim->max_depth <= 8;
}

/* ---- header --------------------------------------------------------------- */

static inline uint16_t ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

int mc_wire_header_decode(const uint8_t *buf, size_t len, const mc_wire_limits_t *lim,
                          mc_wire_header_t *h)
{
    /* check every byte that is present, so garbage fails at once */
    if (len >= 1 && buf[0] != MC_WIRE_MAGIC0)
        return MC_EMAGIC;
    if (len >= 2 && buf[1] != MC_WIRE_MAGIC1)
        return MC_EMAGIC;
    if (len >= 3 && buf[2] != MC_WIRE_VERSION)
        return MC_EVERSION;
    if (len >= 4 && (buf[3] & ~MC_WIRE_FLAGS_KNOWN))
        return MC_EFIELD;
    if ((len >= 7 && buf[6]) || (len >= 8 && buf[7]))
        return MC_EFIELD;
    if (len >= 12 && (uint64_t)ld32(buf + 8) + MC_WIRE_HEADER_SIZE > lim->max_frame)
        return MC_ELIMIT;
    if (len < MC_WIRE_HEADER_SIZE)
        return MC_EMORE;
    h->version = buf[2];
    h->flags = buf[3];
    h->type = ld16(buf + 4);
    h->length = ld32(buf + 8);
    h->session = (uint64_t)ld32(buf + 12) | (uint64_t)ld32(buf + 16) << 32;
    return MC_WIRE_HEADER_SIZE;
}

void mc_wire_header_encode(uint8_t out[MC_WIRE_HEADER_SIZE], const mc_wire_header_t *h)
{
    out[0] = MC_WIRE_MAGIC0;
    out[1] = MC_WIRE_MAGIC1;
    out[2] = h->version;
    out[3] = h->flags;
    st16(out + 4, h->type);
    st16(out + 6, 0);
    st32(out + 8, h->length);
    st32(out + 12, (uint32_t)h->session);
    st32(out + 16, (uint32_t)(h->session >> 32));
}

/* ---- varints ----------------------------------------------------------------
 * LEB128, at most 10 bytes, minimal: the last byte is not 0 unless it is the
 * only byte, and the tenth byte holds only bit 63. */

static inline int varint(const uint8_t *p, uint32_t len, uint32_t *pos, uint64_t *out)
{
    uint32_t i = *pos;
    if (i < len && p[i] < 0x80) { /* one byte: the common case */
        *out = p[i];
        *pos = i + 1;
        return MC_OK;
    }
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7, i++) {
        if (i >= len)
            return MC_ETRUNC;
        uint8_t b = p[i];
        if (shift == 63 && b > 1)
            return MC_EVARINT;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (b == 0 && shift)
                return MC_EVARINT; /* non-minimal: trailing zero group */
            *out = v;
            *pos = i + 1;
            return MC_OK;
        }
        /* a continuation bit at shift 63 means b > 1: refused above */
    }
}

static inline unsigned varint_size(uint64_t v)
{
    unsigned n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* ---- value checks ------------------------------------------------------------ */

/* UTF-8 without NUL, overlong forms, surrogates or code points past U+10FFFF. */
static bool utf8_ok(const uint8_t *p, uint32_t n)
{
    uint32_t i = 0;
    while (i < n) {
        /* eight ASCII bytes, none of them NUL, at a time */
        if (n - i >= 8) {
            uint64_t x;
            memcpy(&x, p + i, 8);
            const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
            if (!(x & highs) && !((x - ones) & ~x & highs)) {
                i += 8;
                continue;
            }
        }
        uint8_t c = p[i];
        if (c >= 0x01 && c < 0x80) {
            i++;
            continue;
        }
        uint32_t need;
        uint8_t lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            else if (c == 0xed)
                hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90; /* overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* past U+10FFFF */
        } else {
            return false; /* NUL, continuation byte, C0, C1, F5..FF */
        }
        if (n - i <= need)
            return false;
        if (p[i + 1] < lo || p[i + 1] > hi)
            return false;
        for (uint32_t k = 2; k <= need; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xbf)
                return false;
        i += need + 1;
    }
    return true;
}

/* the bytes an ID may hold: A-Z a-z 0-9 - _ . (the engine's alphabet,
 * engine.c mc_id_valid, so every ID the wire accepts the engine accepts) */
static inline bool id_char(uint8_t c)
{
    return (uint8_t)(c - 'a') < 26 || (uint8_t)(c - 'A') < 26 || (uint8_t)(c - '0') < 10 ||
           c == '-' || c == '_' || c == '.';
}

/* An ID: 1..max bytes of [A-Za-z0-9-_.], not "." and without "..". */
static bool id_ok(const uint8_t *p, uint32_t n)
{
    if (n == 0 || (n == 1 && p[0] == '.'))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        if (!id_char(p[i]) || (p[i] == '.' && i + 1 < n && p[i + 1] == '.'))
            return false;
    }
    return true;
}

/* A ROLE: "*", or IDs of at most MC_WIRE_ID_MAX bytes joined by single '/'
 * (no empty segment, no leading or trailing '/'). */
static bool role_ok(const uint8_t *p, uint32_t n)
{
    if (n == 1 && p[0] == '*')
        return true;
    uint32_t start = 0;
    for (uint32_t i = 0; i <= n; i++) {
        if (i == n || p[i] == '/') {
            if (i - start > MC_WIRE_ID_MAX || !id_ok(p + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return n > 0;
}

/* RANGES: varint n, then n pairs (gap, span): the first range starts at gap,
 * each next one at previous end + 2 + gap; it ends at start + span. */
static int ranges_ok(const uint8_t *p, uint32_t len, uint64_t max, uint32_t max_count)
{
    uint32_t pos = 0;
    uint64_t n, gap, span, end = 0;
    int rc = varint(p, len, &pos, &n);
    if (rc)
        return rc;
    if (n > max_count)
        return MC_ELIMIT;
    if (n > (len - pos) / 2) /* each pair is at least two bytes */
        return MC_ETRUNC;
    for (uint64_t i = 0; i < n; i++) {
        if ((rc = varint(p, len, &pos, &gap)) || (rc = varint(p, len, &pos, &span)))
            return rc;
        uint64_t start;
        if (i == 0) {
            start = gap;
        } else {
            if (end > max - 2 || gap > max - 2 - end)
                return MC_ERANGE;
            start = end + 2 + gap;
        }
        if (start > max || span > max - start)
            return MC_ERANGE;
        end = start + span;
    }
    return pos == len ? MC_OK : MC_EFIELD;
}

/* ---- validation ----------------------------------------------------------- */

struct vctx {
    const mc_wire_limits_t *lim;
    const uint8_t *base; /* the frame, for error offsets */
    mc_wire_error_t *err;
};

static int fail(struct vctx *c, int code, const uint8_t *at, const struct mc_wire_schema *s,
                unsigned num)
{
    if (c->err) {
        c->err->code = code;
        c->err->offset = (uint32_t)(at - c->base);
        c->err->field = (uint8_t)(num <= 255 ? num : 0);
        c->err->record = s ? s->name : NULL;
    }
    return code;
}

static int check_value(struct vctx *c, const struct mc_wire_field *f, uint64_t u, const uint8_t *v,
                       uint32_t vlen)
{
    switch (f->kind) {
    case MC_WK_U64:
    case MC_WK_BOOL:
    case MC_WK_ENUM:
    case MC_WK_QTY:
    case MC_WK_MS:
        return u <= f->max ? MC_OK : MC_ERANGE;
    case MC_WK_STR: {
        uint32_t max = f->max ? (uint32_t)f->max : c->lim->max_string;
        if (vlen > max)
            return MC_ELIMIT;
        return utf8_ok(v, vlen) ? MC_OK : MC_ESTRING;
    }
    case MC_WK_ID:
    case MC_WK_ROLE: {
        uint32_t max = f->max                ? (uint32_t)f->max
                       : f->kind == MC_WK_ID ? MC_WIRE_ID_MAX
                                             : MC_WIRE_ROLE_MAX;
        if (vlen > max)
            return MC_ELIMIT;
        return (f->kind == MC_WK_ID ? id_ok(v, vlen) : role_ok(v, vlen)) ? MC_OK : MC_EID;
    }
    case MC_WK_UUID:
        return vlen == 16 ? MC_OK : MC_EFIELD;
    case MC_WK_RANGES: {
        uint32_t maxc = f->max_count ? f->max_count : c->lim->max_repeat;
        if (maxc > c->lim->max_repeat)
            maxc = c->lim->max_repeat;
        return ranges_ok(v, vlen, f->max, maxc);
    }
    }
    return MC_EFIELD;
}

/* One pass over a record: every field's bounds, wire type, count and value;
 * then required fields and groups. */
static int validate(struct vctx *c, const struct mc_wire_schema *s, const uint8_t *p, uint32_t len,
                    unsigned depth)
{
    if (depth > c->lim->max_depth)
        return fail(c, MC_EDEPTH, p, s, 0);
    uint32_t count[MC_WIRE_MAX_FIELDS] = {0};
    uint32_t pos = 0;
    while (pos < len) {
        const uint8_t *at = p + pos;
        uint64_t key, u = 0;
        int rc = varint(p, len, &pos, &key);
        if (rc)
            return fail(c, rc, at, s, 0);
        uint64_t num = key >> 1;
        if (num == 0 || num > 255)
            return fail(c, MC_EFIELD, at, s, 0);
        const uint8_t *v = NULL;
        uint32_t vlen = 0;
        if ((rc = varint(p, len, &pos, &u)))
            return fail(c, rc, at, s, (unsigned)num);
        if (key & 1) { /* length-delimited */
            if (u > len - pos)
                return fail(c, MC_ETRUNC, at, s, (unsigned)num);
            v = p + pos;
            vlen = (uint32_t)u;
            pos += vlen;
        }
        if (num > s->nfields)
            continue; /* unknown field: skipped */
        const struct mc_wire_field *f = &s->fields[num - 1];
        bool want_len = f->kind >= MC_WK_STR;
        if (want_len != (bool)(key & 1))
            return fail(c, MC_EFIELD, at, s, (unsigned)num);
        uint32_t *n = &count[num - 1];
        if (f->card == CARD_OPT || f->card == CARD_REQ) {
            if (*n)
                return fail(c, MC_EDUP, at, s, (unsigned)num);
        } else {
            uint32_t maxc = f->max_count && f->max_count < c->lim->max_repeat ? f->max_count
                                                                              : c->lim->max_repeat;
            if (*n >= maxc)
                return fail(c, MC_ELIMIT, at, s, (unsigned)num);
        }
        ++*n;
        if (f->kind == MC_WK_MSG) {
            if ((rc = validate(c, f->sub, v, vlen, depth + 1)))
                return rc;
        } else if ((rc = check_value(c, f, u, v, vlen))) {
            return fail(c, rc, at, s, (unsigned)num);
        }
    }
    unsigned in_group = 0;
    for (unsigned i = 0; i < s->nfields; i++) {
        const struct mc_wire_field *f = &s->fields[i];
        if (!count[i] && (f->card == CARD_REQ || f->card == CARD_REP1))
            return fail(c, MC_EMISSING, p + len, s, i + 1);
        if (f->group && count[i])
            in_group++;
    }
    for (unsigned i = 0; i < s->nfields; i++) {
        if (s->fields[i].group) { /* exactly one field of group 1 */
            if (in_group == 0)
                return fail(c, MC_EMISSING, p + len, s, i + 1);
            if (in_group > 1)
                return fail(c, MC_EDUP, p + len, s, 0);
            break;
        }
    }
    return MC_OK;
}

int mc_wire_decode_body(uint16_t type, const uint8_t *p, size_t len, const mc_wire_limits_t *lim,
                        mc_wire_rec_t *rec, mc_wire_error_t *err)
{
    if (err)
        *err = (mc_wire_error_t){.type = type};
    if (!mc_wire_limits_valid(lim)) {
        if (err)
            err->code = MC_EINVAL;
        return MC_EINVAL;
    }
    const struct wire_type *t = type_find(type);
    if (!t) {
        if (err)
            err->code = MC_ETYPE;
        return MC_ETYPE;
    }
    if (len > lim->max_frame - MC_WIRE_HEADER_SIZE) {
        if (err)
            err->code = MC_ELIMIT;
        return MC_ELIMIT;
    }
    struct vctx c = {.lim = lim, .base = p, .err = err};
    int rc = validate(&c, t->schema, p, (uint32_t)len, 0);
    if (rc)
        return rc;
    *rec = (mc_wire_rec_t){t->schema, p, (uint32_t)len};
    return MC_OK;
}

int mc_wire_decode(const uint8_t *buf, size_t len, const mc_wire_limits_t *lim, unsigned accept,
                   mc_wire_msg_t *msg, mc_wire_error_t *err)
{
    if (err)
        *err = (mc_wire_error_t){0};
    if (!mc_wire_limits_valid(lim)) { /* so that a frame's size fits the int result */
        if (err)
            err->code = MC_EINVAL;
        return MC_EINVAL;
    }
    int rc = mc_wire_header_decode(buf, len, lim, &msg->hdr);
    if (rc < 0) {
        if (err)
            err->code = rc;
        return rc;
    }
    /* header_decode checked length + 20 <= max_frame <= 1 GiB: no overflow */
    size_t size = MC_WIRE_HEADER_SIZE + (size_t)msg->hdr.length;
    if (len < size)
        return MC_EMORE;
    const struct wire_type *t = type_find(msg->hdr.type);
    if (!t || !(t->to & accept)) {
        if (err)
            *err = (mc_wire_error_t){.code = MC_ETYPE, .offset = 4, .type = msg->hdr.type};
        return MC_ETYPE;
    }
    struct vctx c = {.lim = lim, .base = buf, .err = err};
    const uint8_t *p = buf + MC_WIRE_HEADER_SIZE;
    if ((rc = validate(&c, t->schema, p, msg->hdr.length, 0))) {
        if (err)
            err->type = msg->hdr.type;
        return rc;
    }
    msg->body = (mc_wire_rec_t){t->schema, p, msg->hdr.length};
    return (int)size;
}

/* ---- accessors (validated records only) -------------------------------------- */

void mc_wire_iter_init(mc_wire_iter_t *it, const mc_wire_rec_t *r, unsigned num)
{
    *it = (mc_wire_iter_t){.p = r->p, .len = r->len, .pos = 0, .num = num};
    int kind = mc_wire_kind(r, num);
    it->kind = kind < 0 ? MC_WK_UNKNOWN : (uint8_t)kind;
}

bool mc_wire_next(mc_wire_iter_t *it, mc_wire_val_t *v)
{
    while (it->pos < it->len) {
        uint64_t key, u;
        if (varint(it->p, it->len, &it->pos, &key) || varint(it->p, it->len, &it->pos, &u))
            break;
        const uint8_t *p = NULL;
        uint32_t n = 0;
        if (key & 1) {
            if (u > it->len - it->pos)
                break;
            p = it->p + it->pos;
            n = (uint32_t)u;
            it->pos += n;
        }
        if ((key >> 1) == it->num) {
            *v = (mc_wire_val_t){
                .u = u, .p = p, .len = n, .num = (uint8_t)it->num, .kind = it->kind};
            return true;
        }
    }
    it->pos = it->len;
    *v = (mc_wire_val_t){.kind = MC_WK_UNKNOWN};
    return false;
}

int mc_wire_kind(const mc_wire_rec_t *r, unsigned num)
{
    const struct mc_wire_schema *s = r->schema;
    return s && num >= 1 && num <= s->nfields ? s->fields[num - 1].kind : -1;
}

bool mc_wire_get(const mc_wire_rec_t *r, unsigned num, mc_wire_val_t *v)
{
    mc_wire_iter_t it;
    mc_wire_iter_init(&it, r, num);
    return mc_wire_next(&it, v);
}

uint32_t mc_wire_count(const mc_wire_rec_t *r, unsigned num)
{
    mc_wire_iter_t it;
    mc_wire_val_t v;
    uint32_t n = 0;
    mc_wire_iter_init(&it, r, num);
    while (mc_wire_next(&it, &v))
        n++;
    return n;
}

mc_wire_rec_t mc_wire_sub(const mc_wire_rec_t *r, unsigned num, const mc_wire_val_t *v)
{
    const struct mc_wire_schema *s = r->schema;
    /* only a MSG value read from field @num of @r itself */
    if (!s || num < 1 || num > s->nfields || s->fields[num - 1].kind != MC_WK_MSG ||
        v->num != num || v->kind != MC_WK_MSG || !v->p || v->p < r->p ||
        v->len > r->len - (uint32_t)(v->p - r->p))
        return (mc_wire_rec_t){0};
    return (mc_wire_rec_t){s->fields[num - 1].sub, v->p, v->len};
}

uint32_t mc_wire_ranges_init(mc_wire_ranges_t *it, const mc_wire_val_t *v)
{
    uint64_t n = 0;
    *it = (mc_wire_ranges_t){.p = v->p, .len = v->len};
    if (v->kind != MC_WK_RANGES || !v->p || varint(it->p, it->len, &it->pos, &n) || n > UINT32_MAX)
        n = 0;
    it->left = (uint32_t)n;
    return it->left;
}

bool mc_wire_ranges_next(mc_wire_ranges_t *it, uint64_t *begin, uint64_t *end)
{
    uint64_t gap, span;
    if (!it->left || varint(it->p, it->len, &it->pos, &gap) ||
        varint(it->p, it->len, &it->pos, &span)) {
        it->left = 0;
        return false;
    }
    /* validated by ranges_ok: no overflow */
    *begin = it->started ? it->end + 2 + gap : gap;
    *end = *begin + span;
    it->end = *end;
    it->started = true;
    it->left--;
    return true;
}

const struct mc_wire_schema *mc_wire_type_schema(uint16_t type)
{
    const struct wire_type *t = type_find(type);
    return t ? t->schema : NULL;
}

bool mc_wire_field_get(const struct mc_wire_schema *s, unsigned num, mc_wire_field_info_t *out)
{
    if (!s || num < 1 || num > s->nfields)
        return false;
    const struct mc_wire_field *f = &s->fields[num - 1];
    *out = (mc_wire_field_info_t){.name = f->name,
                                  .kind = f->kind,
                                  .card = f->card,
                                  .group = f->group,
                                  .max_count = f->max_count,
                                  .max = f->max,
                                  .sub = f->sub};
    return true;
}

bool mc_wire_schema_ok(void)
{
#define MC__SCHEMA_OK(rec)                                                                         \
    for (unsigned i = 0; i < schema_##rec.nfields; i++)                                            \
        if (schema_##rec.fields[i].num != i + 1 ||                                                 \
            (schema_##rec.fields[i].kind == MC_WK_MSG) != (schema_##rec.fields[i].sub != NULL))    \
            return false;
    MC_WIRE_RECORDS(MC__SCHEMA_OK)
#undef MC__SCHEMA_OK
    for (size_t i = 1; i < NTYPES; i++)
        if (types[i - 1].code >= types[i].code)
            return false;
    return true;
}

/* ---- writer ------------------------------------------------------------------ */

void mc_wire_writer_init(mc_wire_writer_t *w, uint8_t *buf, size_t cap)
{
    *w = (mc_wire_writer_t){.buf = buf, .cap = cap, .frame = SIZE_MAX};
}

static inline bool room(mc_wire_writer_t *w, size_t n)
{
    if (w->err)
        return false;
    if (n > w->cap - w->len) {
        w->err = MC_ELIMIT;
        return false;
    }
    return true;
}

static inline void put_varint(mc_wire_writer_t *w, uint64_t v)
{
    if (!room(w, varint_size(v)))
        return;
    while (v >= 0x80) {
        w->buf[w->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    w->buf[w->len++] = (uint8_t)v;
}

static bool put_key(mc_wire_writer_t *w, unsigned num, unsigned wt)
{
    if (w->err)
        return false;
    if (num < 1 || num > 255 || w->frame == SIZE_MAX) {
        w->err = MC_EINVAL;
        return false;
    }
    put_varint(w, (uint64_t)num << 1 | wt);
    return !w->err;
}

void mc_wire_begin_frame(mc_wire_writer_t *w, uint16_t type, uint8_t flags, uint64_t session)
{
    if ((w->frame != SIZE_MAX || (flags & ~MC_WIRE_FLAGS_KNOWN)) && !w->err)
        w->err = MC_EINVAL; /* frames do not nest; reserved flags stay clear */
    if (!room(w, MC_WIRE_HEADER_SIZE))
        return;
    w->frame = w->len;
    w->depth = 0;
    mc_wire_header_encode(w->buf + w->len, &(mc_wire_header_t){.version = MC_WIRE_VERSION,
                                                               .flags = flags,
                                                               .type = type,
                                                               .session = session});
    w->len += MC_WIRE_HEADER_SIZE;
}

int mc_wire_end_frame(mc_wire_writer_t *w)
{
    if (!w->err && (w->frame == SIZE_MAX || w->depth))
        w->err = MC_EINVAL;
    if (!w->err && w->len - w->frame > (size_t)INT32_MAX)
        w->err = MC_ELIMIT;
    if (w->err)
        return w->err;
    size_t size = w->len - w->frame;
    st32(w->buf + w->frame + 8, (uint32_t)(size - MC_WIRE_HEADER_SIZE));
    w->frame = SIZE_MAX;
    return (int)size;
}

void mc_wire_put_u64(mc_wire_writer_t *w, unsigned num, uint64_t v)
{
    if (put_key(w, num, 0))
        put_varint(w, v);
}

void mc_wire_put_bytes(mc_wire_writer_t *w, unsigned num, const void *p, size_t len)
{
    if (!put_key(w, num, 1))
        return;
    put_varint(w, len);
    if (room(w, len) && len) {
        memcpy(w->buf + w->len, p, len);
        w->len += len;
    }
}

void mc_wire_put_str(mc_wire_writer_t *w, unsigned num, const char *s)
{
    mc_wire_put_bytes(w, num, s, strlen(s));
}

void mc_wire_put_ranges(mc_wire_writer_t *w, unsigned num, const uint64_t (*r)[2], size_t n)
{
    size_t size = varint_size(n);
    for (size_t i = 0; i < n; i++) {
        if (r[i][1] < r[i][0] || (i && (r[i][0] <= r[i - 1][1] || r[i][0] - r[i - 1][1] < 2))) {
            if (!w->err)
                w->err = MC_EINVAL;
            return;
        }
        size += varint_size(i ? r[i][0] - r[i - 1][1] - 2 : r[i][0]);
        size += varint_size(r[i][1] - r[i][0]);
    }
    if (!put_key(w, num, 1))
        return;
    put_varint(w, size);
    put_varint(w, n);
    for (size_t i = 0; i < n; i++) {
        put_varint(w, i ? r[i][0] - r[i - 1][1] - 2 : r[i][0]);
        put_varint(w, r[i][1] - r[i][0]);
    }
}

/* A nested record's length is written when it ends; one byte is reserved and
 * the body moved right when the length needs more (varints are minimal). */
void mc_wire_begin(mc_wire_writer_t *w, unsigned num)
{
    if (!put_key(w, num, 1))
        return;
    if (w->depth >= sizeof w->open / sizeof w->open[0]) {
        w->err = MC_EDEPTH;
        return;
    }
    if (!room(w, 1))
        return;
    w->open[w->depth++] = w->len;
    w->buf[w->len++] = 0;
}

void mc_wire_end(mc_wire_writer_t *w)
{
    if (w->err)
        return;
    if (!w->depth) {
        w->err = MC_EINVAL;
        return;
    }
    size_t at = w->open[--w->depth];
    size_t body = w->len - at - 1;
    unsigned extra = varint_size(body) - 1;
    if (extra) {
        if (!room(w, extra))
            return;
        memmove(w->buf + at + 1 + extra, w->buf + at + 1, body);
        w->len += extra;
    }
    uint64_t v = body;
    uint8_t *p = w->buf + at;
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p = (uint8_t)v;
}

void mc_wire_put_scalar(mc_wire_writer_t *w, unsigned num, const char *name, uint64_t thousandths,
                        const char *role)
{
    mc_wire_begin(w, num);
    mc_wire_put_str(w, MC_RESOURCE_NAME, name);
    mc_wire_put_u64(w, MC_RESOURCE_SCALAR, thousandths);
    if (role)
        mc_wire_put_str(w, MC_RESOURCE_ROLE, role);
    mc_wire_end(w);
}

/* ---- canonical copy and equality ------------------------------------------------ */

void mc_wire_put_rec(mc_wire_writer_t *w, const mc_wire_rec_t *r)
{
    const struct mc_wire_schema *s = r->schema;
    for (unsigned num = 1; s && num <= s->nfields && !w->err; num++) {
        const struct mc_wire_field *f = &s->fields[num - 1];
        mc_wire_iter_t it;
        mc_wire_val_t v;
        mc_wire_iter_init(&it, r, num);
        while (mc_wire_next(&it, &v)) {
            if (f->kind == MC_WK_MSG) {
                mc_wire_rec_t sub = mc_wire_sub(r, num, &v);
                mc_wire_begin(w, num);
                mc_wire_put_rec(w, &sub);
                mc_wire_end(w);
            } else if (f->kind >= MC_WK_STR) {
                mc_wire_put_bytes(w, num, v.p, v.len);
            } else {
                mc_wire_put_u64(w, num, v.u);
            }
        }
    }
}

static bool ranges_equal(const mc_wire_val_t *a, const mc_wire_val_t *b)
{
    mc_wire_ranges_t ia, ib;
    if (mc_wire_ranges_init(&ia, a) != mc_wire_ranges_init(&ib, b))
        return false;
    uint64_t a0, a1, b0, b1;
    while (mc_wire_ranges_next(&ia, &a0, &a1)) {
        if (!mc_wire_ranges_next(&ib, &b0, &b1) || a0 != b0 || a1 != b1)
            return false;
    }
    return true;
}

bool mc_wire_rec_equal(const mc_wire_rec_t *a, const mc_wire_rec_t *b)
{
    const struct mc_wire_schema *s = a->schema;
    if (s != b->schema)
        return false;
    for (unsigned num = 1; s && num <= s->nfields; num++) {
        const struct mc_wire_field *f = &s->fields[num - 1];
        mc_wire_iter_t ia, ib;
        mc_wire_val_t va, vb;
        mc_wire_iter_init(&ia, a, num);
        mc_wire_iter_init(&ib, b, num);
        for (;;) {
            bool ha = mc_wire_next(&ia, &va), hb = mc_wire_next(&ib, &vb);
            if (ha != hb)
                return false;
            if (!ha)
                break;
            if (f->kind == MC_WK_MSG) {
                mc_wire_rec_t sa = mc_wire_sub(a, num, &va), sb = mc_wire_sub(b, num, &vb);
                if (!mc_wire_rec_equal(&sa, &sb))
                    return false;
            } else if (f->kind == MC_WK_RANGES) {
                if (!ranges_equal(&va, &vb))
                    return false;
            } else if (f->kind >= MC_WK_STR) {
                if (va.len != vb.len || (va.len && memcmp(va.p, vb.p, va.len) != 0))
                    return false;
            } else if (va.u != vb.u) {
                return false;
            }
        }
    }
    return true;
}

/* ---- the generated part of docs/protocol.md ------------------------------------ */

static void max_text(char *out, size_t n, const struct mc_wire_field *f)
{
    if (f->kind == MC_WK_MSG) {
        snprintf(out, n, "%s", f->sub->name);
    } else if (f->kind == MC_WK_UUID) {
        snprintf(out, n, "16 bytes");
    } else if (f->kind >= MC_WK_STR && f->kind <= MC_WK_ROLE) {
        if (f->max)
            snprintf(out, n, "len <= %llu", (unsigned long long)f->max);
        else
            snprintf(out, n, "len <= %s",
                     f->kind == MC_WK_STR  ? "max_string"
                     : f->kind == MC_WK_ID ? "128"
                                           : "255");
    } else if (f->max == MC_WIRE_U64_MAX) {
        snprintf(out, n, "any");
    } else if (f->max == (uint64_t)INT64_MAX) {
        snprintf(out, n, "<= 2^63-1");
    } else if (f->max == MC_WIRE_RANGE_MAX) {
        snprintf(out, n, "<= 2^62");
    } else {
        snprintf(out, n, "<= %llu", (unsigned long long)f->max);
    }
}

static void spec_record(FILE *f, const struct mc_wire_schema *s)
{
    if (!s->nfields) {
        fprintf(f, "(no fields)\n\n");
        return;
    }
    fprintf(f, "| # | field | kind | card | group | count | value |\n");
    fprintf(f, "|---|---|---|---|---|---|---|\n");
    for (unsigned i = 0; i < s->nfields; i++) {
        const struct mc_wire_field *fl = &s->fields[i];
        char val[64], cnt[32] = "";
        max_text(val, sizeof val, fl);
        if (fl->card >= CARD_REP || fl->kind == MC_WK_RANGES) {
            if (fl->max_count)
                snprintf(cnt, sizeof cnt, "<= %u", fl->max_count);
            else
                snprintf(cnt, sizeof cnt, "<= max_repeat");
        }
        fprintf(f, "| %u | %s | %s | %s | %s | %s | %s |\n", fl->num, fl->name,
                kind_names[fl->kind], card_names[fl->card], fl->group ? "1" : "", cnt, val);
    }
    fprintf(f, "\n");
}

void mc_wire_spec_markdown(void *out)
{
    FILE *f = out;
    static const char *const to_names[] = {"", "master", "agent", "", "framework", "", "", "any"};
    fprintf(f, "### Message types\n\n| code | type | received by | family |\n|---|---|---|---|\n");
    for (size_t i = 0; i < NTYPES; i++)
        fprintf(f, "| 0x%04X | %s | %s | %s |\n", types[i].code, types[i].name,
                to_names[types[i].to], types[i].family);
    fprintf(f, "\n### Message bodies\n\n");
    for (size_t i = 0; i < NTYPES; i++) {
        fprintf(f, "#### %s (0x%04X)\n\n", types[i].name, types[i].code);
        spec_record(f, types[i].schema);
    }
    fprintf(f, "### Records\n\n");
    static const struct mc_wire_schema *const nested[] = {
        &schema_RESOURCE, &schema_ATTRIBUTE, &schema_NUMA_NODE, &schema_ENV,    &schema_TASK,
        &schema_STATUS,   &schema_RUNNING,   &schema_OFFER,     &schema_TASKREF};
    for (size_t i = 0; i < sizeof nested / sizeof nested[0]; i++) {
        fprintf(f, "#### %s\n\n", nested[i]->name);
        spec_record(f, nested[i]);
    }
}
