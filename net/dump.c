/* net/dump.c: frames as text, through the schema (mesocore wire-dump). For
 * operators reading a capture and for whoever looks at a fuzzer's input:
 * every frame is decoded exactly as a receiver would, then printed field by
 * field; the first frame that does not decode is reported with its reason
 * and place, and the dump stops there, as a connection would. */
#include "net/wire.h"
#include "engine/status.h"

#include <stdio.h>

static void dump_bytes(FILE *f, const uint8_t *p, uint32_t n)
{
    fputc('"', f);
    for (uint32_t i = 0; i < n; i++) {
        if (p[i] == '"' || p[i] == '\\')
            fprintf(f, "\\%c", p[i]);
        else if (p[i] >= 0x20 && p[i] < 0x7f)
            fputc(p[i], f);
        else
            fprintf(f, "\\x%02x", p[i]);
    }
    fputc('"', f);
}

static void dump_rec(FILE *f, const mc_wire_rec_t *r, int indent)
{
    mc_wire_field_info_t info;
    for (unsigned num = 1; mc_wire_field_get(r->schema, num, &info); num++) {
        mc_wire_iter_t it;
        mc_wire_val_t v;
        mc_wire_iter_init(&it, r, num);
        while (mc_wire_next(&it, &v)) {
            fprintf(f, "%*s%s", indent, "", info.name);
            switch (info.kind) {
            case MC_WK_MSG: {
                mc_wire_rec_t sub = mc_wire_sub(r, num, &v);
                fprintf(f, " {\n");
                dump_rec(f, &sub, indent + 2);
                fprintf(f, "%*s}\n", indent, "");
                continue;
            }
            case MC_WK_RANGES: {
                mc_wire_ranges_t rr;
                uint64_t b, e;
                mc_wire_ranges_init(&rr, &v);
                fprintf(f, " = [");
                for (int first = 1; mc_wire_ranges_next(&rr, &b, &e); first = 0)
                    fprintf(f, "%s%llu-%llu", first ? "" : ", ", (unsigned long long)b,
                            (unsigned long long)e);
                fprintf(f, "]\n");
                continue;
            }
            case MC_WK_UUID:
                fprintf(f, " = ");
                for (uint32_t i = 0; i < v.len; i++)
                    fprintf(f, "%02x%s", v.p[i], i == 3 || i == 5 || i == 7 || i == 9 ? "-" : "");
                fputc('\n', f);
                continue;
            case MC_WK_STR:
            case MC_WK_ID:
            case MC_WK_ROLE:
                fprintf(f, " = ");
                dump_bytes(f, v.p, v.len);
                fputc('\n', f);
                continue;
            case MC_WK_QTY: /* thousandths */
                fprintf(f, " = %llu.%03llu\n", (unsigned long long)(v.u / 1000),
                        (unsigned long long)(v.u % 1000));
                continue;
            default:
                fprintf(f, " = %llu\n", (unsigned long long)v.u);
            }
        }
    }
}

int mc_wire_dump(void *out, const uint8_t *buf, size_t len, const mc_wire_limits_t *lim)
{
    FILE *f = out;
    size_t off = 0;
    for (unsigned n = 0; off < len; n++) {
        mc_wire_msg_t m;
        mc_wire_error_t err;
        int rc = mc_wire_decode(buf + off, len - off, lim, MC_TO_ANY, &m, &err);
        if (rc == MC_EMORE) {
            fprintf(f, "frame %u at byte %zu: cut short (%zu bytes left)\n", n, off, len - off);
            return rc;
        }
        if (rc == MC_ETYPE) { /* well formed: skipped, as a receiver does */
            fprintf(f,
                    "frame %u at byte %zu: type 0x%04x session %llu, %u bytes: unknown, skipped\n",
                    n, off, m.hdr.type, (unsigned long long)m.hdr.session, m.hdr.length);
            off += MC_WIRE_HEADER_SIZE + (size_t)m.hdr.length;
            continue;
        }
        if (rc < 0) {
            fprintf(f, "frame %u at byte %zu: %s (%s)", n, off, mc_err_name(rc), mc_strerror(rc));
            if (err.offset || err.record)
                fprintf(f, " at byte %zu", off + err.offset);
            if (err.record)
                fprintf(f, " in %s", err.record);
            if (err.field)
                fprintf(f, " field %u", err.field);
            fputc('\n', f);
            return rc;
        }
        fprintf(f, "frame %u at byte %zu: %s session %llu%s, %u bytes\n", n, off,
                mc_wire_type_name(m.hdr.type), (unsigned long long)m.hdr.session,
                m.hdr.flags & MC_WIRE_FLAG_MORE ? " more" : "", m.hdr.length);
        dump_rec(f, &m.body, 2);
        off += (size_t)rc;
    }
    return MC_OK;
}
