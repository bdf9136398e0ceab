/* fuzz/fuzz_wire_roundtrip.c: whole frames, any type, back to back. Every
 * frame that decodes must satisfy decode(encode(m)) == m (fuzz/wire_fuzz.h):
 * its canonical encoding decodes to an equal message with the same header,
 * and encodes again to the same bytes. */
#include "fuzz/wire_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        mc_wire_msg_t m;
        int rc = mc_wire_decode(data + off, size - off, &fuzz_lim, MC_TO_ANY, &m, NULL);
        if (rc == MC_ETYPE) { /* well formed, unknown type: skip it */
            off += MC_WIRE_HEADER_SIZE + (size_t)m.hdr.length;
            continue;
        }
        if (rc <= 0)
            break;
        CHECK((size_t)rc <= size - off);
        CHECK(ref_body(m.hdr.type, m.body.p, m.body.len, &fuzz_lim));
        walk(&m.body, 0);
        round_trip(&m);
        off += (size_t)rc;
    }
    return 0;
}
