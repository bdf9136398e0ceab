/* fuzz/fuzz_wire_header.c: the frame header decoder against a reference
 * written from docs/protocol.md section 1, byte by byte. Properties: no crash
 * or over-read; for every prefix of the input the decoder gives exactly the
 * reference's answer (so an error is reported as soon as its byte arrives,
 * not later); a decoded header encodes back to the same 20 bytes; the
 * whole-frame decoder agrees. The last input byte picks the frame limit. */
#include "fuzz/wire_fuzz.h"

/* The spec, literally: each byte checked in order as it arrives. */
static int reference(const uint8_t *b, size_t n, uint32_t max_frame)
{
    static const int at_byte[8] = {MC_EMAGIC, MC_EMAGIC, MC_EVERSION, MC_EFIELD,
                                   0,         0,         MC_EFIELD,   MC_EFIELD};
    for (size_t i = 0; i < n && i < 8; i++) {
        bool bad = (i == 0 && b[0] != 'M') || (i == 1 && b[1] != 'C') || (i == 2 && b[2] != 1) ||
                   (i == 3 && (b[3] & 0xfe)) || (i >= 6 && b[i] != 0);
        if (bad)
            return at_byte[i];
    }
    if (n >= 12) {
        uint64_t length =
            (uint64_t)b[8] | (uint64_t)b[9] << 8 | (uint64_t)b[10] << 16 | (uint64_t)b[11] << 24;
        if (length + 20 > max_frame)
            return MC_ELIMIT;
    }
    return n >= 20 ? 20 : MC_EMORE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mc_wire_limits_t lim = fuzz_lim;
    if (size > 0) { /* let the input pick the frame limit too */
        lim.max_frame = MC_WIRE_FRAME_MIN + (uint32_t)data[size - 1] * 4096;
        lim.max_string = lim.max_frame < 4096 ? lim.max_frame : 4096;
    }
    CHECK(mc_wire_limits_valid(&lim));
    mc_wire_header_t h;
    for (size_t k = 0; k <= size && k <= MC_WIRE_HEADER_SIZE; k++)
        CHECK(mc_wire_header_decode(data, k, &lim, &h) == reference(data, k, lim.max_frame));
    int rc = mc_wire_header_decode(data, size, &lim, &h);
    CHECK(rc == reference(data, size, lim.max_frame));
    if (rc == MC_WIRE_HEADER_SIZE) {
        uint8_t out[MC_WIRE_HEADER_SIZE];
        mc_wire_header_encode(out, &h);
        CHECK(memcmp(out, data, MC_WIRE_HEADER_SIZE) == 0);
        /* the whole-frame decoder agrees on the header */
        mc_wire_msg_t m;
        mc_wire_error_t err;
        int rf = mc_wire_decode(data, size, &lim, MC_TO_ANY, &m, &err);
        CHECK(rf != MC_EMAGIC && rf != MC_EVERSION);
        /* anything else it finds is in the body (a count limit, say) */
        CHECK(rf >= 0 || rf == MC_EMORE || rf == MC_ETYPE || err.offset >= MC_WIRE_HEADER_SIZE);
        CHECK(rf != MC_EMORE || size < MC_WIRE_HEADER_SIZE + (size_t)h.length);
        CHECK(rf < 0 || (size_t)rf == MC_WIRE_HEADER_SIZE + h.length);
    }
    return 0;
}
