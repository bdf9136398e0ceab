/* fuzz/wire_ref.h: a second, deliberately plain reading of docs/protocol.md
 * section 2 (bodies), for differential fuzzing: the decoder in net/wire.c
 * and this reference must accept and refuse exactly the same bodies. It
 * shares only the schema (mc_wire_field_get) with the decoder: its varints,
 * strings, identifiers, roles and ranges are decoded afresh, with 128-bit
 * arithmetic instead of overflow checks, code points instead of byte
 * ranges, and a split on '/' instead of a scan. Slow and simple on purpose.
 * Header-only, for the fuzz targets and their ctest replay. */
#ifndef MC_FUZZ_WIRE_REF_H
#define MC_FUZZ_WIRE_REF_H

#include "net/wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* LEB128 as the spec says: at most 10 bytes, the value fits 64 bits, and a
 * multi-byte varint does not end in a zero byte. */
static inline bool ref_varint(const uint8_t *p, size_t n, size_t *pos, uint64_t *out)
{
    unsigned __int128 v = 0;
    for (size_t k = 0; k < 10; k++) {
        if (*pos >= n)
            return false;
        uint8_t b = p[(*pos)++];
        v |= (unsigned __int128)(b & 0x7f) << (7 * k);
        if (!(b & 0x80)) {
            if (k > 0 && b == 0)
                return false; /* not minimal */
            if (v >> 64)
                return false; /* past 64 bits */
            *out = (uint64_t)v;
            return true;
        }
    }
    return false; /* an eleventh byte */
}

/* UTF-8 by code points: no NUL, shortest form, no surrogate, <= U+10FFFF. */
static inline bool ref_utf8(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        unsigned len = c < 0x80             ? 1
                       : (c & 0xe0) == 0xc0 ? 2
                       : (c & 0xf0) == 0xe0 ? 3
                       : (c & 0xf8) == 0xf0 ? 4
                                            : 0;
        if (!len || i + len > n)
            return false;
        uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
        for (unsigned k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp == 0 || cp < least[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return false;
        i += len;
    }
    return true;
}

static inline bool ref_id(const uint8_t *p, size_t n)
{
    if (n < 1 || n > MC_WIRE_ID_MAX)
        return false;
    if (n == 1 && p[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok)
            return false;
        if (i + 1 < n && c == '.' && p[i + 1] == '.')
            return false;
    }
    return true;
}

static inline bool ref_role(const uint8_t *p, size_t n)
{
    if (n == 1 && p[0] == '*')
        return true;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++)
        if (i == n || p[i] == '/') {
            if (!ref_id(p + start, i - start))
                return false;
            start = i + 1;
        }
    return true;
}

static inline bool ref_ranges(const uint8_t *p, size_t n, uint64_t max, uint64_t max_count)
{
    size_t pos = 0;
    uint64_t count;
    if (!ref_varint(p, n, &pos, &count) || count > max_count)
        return false;
    unsigned __int128 end = 0;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t gap, span;
        if (!ref_varint(p, n, &pos, &gap) || !ref_varint(p, n, &pos, &span))
            return false;
        unsigned __int128 begin = i == 0 ? gap : end + 2 + gap;
        end = begin + span;
        if (end > max)
            return false;
    }
    return pos == n;
}

static inline bool ref_record(const struct mc_wire_schema *s, const uint8_t *p, size_t n,
                              unsigned depth, const mc_wire_limits_t *lim)
{
    if (depth > lim->max_depth)
        return false;
    uint32_t count[256] = {0};
    size_t pos = 0;
    while (pos < n) {
        uint64_t key, u = 0, num;
        if (!ref_varint(p, n, &pos, &key))
            return false;
        num = key >> 1;
        if (num < 1 || num > 255)
            return false;
        const uint8_t *v = NULL;
        size_t vlen = 0;
        if (!ref_varint(p, n, &pos, &u))
            return false;
        if (key & 1) {
            if (u > n - pos)
                return false;
            v = p + pos;
            vlen = (size_t)u;
            pos += vlen;
        }
        mc_wire_field_info_t f;
        if (!mc_wire_field_get(s, (unsigned)num, &f))
            continue; /* unknown: skipped */
        if ((f.kind >= MC_WK_STR) != (bool)(key & 1))
            return false;
        count[num]++;
        uint64_t limit = f.card <= MC_WC_REQ                            ? 1
                         : f.max_count && f.max_count < lim->max_repeat ? f.max_count
                                                                        : lim->max_repeat;
        if (count[num] > limit)
            return false;
        switch (f.kind) {
        case MC_WK_U64:
        case MC_WK_BOOL:
        case MC_WK_ENUM:
        case MC_WK_QTY:
        case MC_WK_MS:
            if (u > f.max)
                return false;
            break;
        case MC_WK_STR:
            if (vlen > (f.max ? f.max : lim->max_string) || !ref_utf8(v, vlen))
                return false;
            break;
        case MC_WK_ID:
            if (vlen > (f.max ? f.max : MC_WIRE_ID_MAX) || !ref_id(v, vlen))
                return false;
            break;
        case MC_WK_ROLE:
            if (vlen > (f.max ? f.max : MC_WIRE_ROLE_MAX) || !ref_role(v, vlen))
                return false;
            break;
        case MC_WK_UUID:
            if (vlen != 16)
                return false;
            break;
        case MC_WK_RANGES: {
            uint64_t maxc =
                f.max_count && f.max_count < lim->max_repeat ? f.max_count : lim->max_repeat;
            if (!ref_ranges(v, vlen, f.max, maxc))
                return false;
            break;
        }
        case MC_WK_MSG:
            if (!ref_record(f.sub, v, vlen, depth + 1, lim))
                return false;
            break;
        default:
            return false;
        }
    }
    unsigned in_group = 0, grouped = 0;
    mc_wire_field_info_t f;
    for (unsigned num = 1; mc_wire_field_get(s, num, &f); num++) {
        if ((f.card == MC_WC_REQ || f.card == MC_WC_REP1) && !count[num])
            return false;
        grouped += f.group != 0;
        in_group += f.group && count[num];
    }
    return !grouped || in_group == 1;
}

/* Does the reference accept @n bytes as the body of message type @type? */
static inline bool ref_body(uint16_t type, const uint8_t *p, size_t n, const mc_wire_limits_t *lim)
{
    const struct mc_wire_schema *s = mc_wire_type_schema(type);
    return s && n <= lim->max_frame - MC_WIRE_HEADER_SIZE && ref_record(s, p, n, 0, lim);
}

#endif
