/* fuzz/fuzz_wire_header.c: the frame header decoder. Properties: no crash or
 * over-read; when the input holds a valid header, every shorter prefix needs
 * more bytes or fails with the same early error, and encoding the decoded
 * header gives back the input's first 20 bytes exactly. */
#include "fuzz/wire_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mc_wire_limits_t lim = fuzz_lim;
    if (size > 0) /* let the input pick the frame limit too */
        lim.max_frame = MC_WIRE_FRAME_MIN + (uint32_t)data[size - 1] * 4096;
    mc_wire_header_t h;
    int rc = mc_wire_header_decode(data, size, &lim, &h);
    CHECK(rc == MC_WIRE_HEADER_SIZE || rc == MC_EMORE || rc == MC_EMAGIC || rc == MC_EVERSION ||
          rc == MC_EFIELD || rc == MC_ELIMIT);
    CHECK(rc != MC_EMORE || size < MC_WIRE_HEADER_SIZE);
    for (size_t k = 0; k < size && k < MC_WIRE_HEADER_SIZE; k++) {
        mc_wire_header_t hk;
        int rk = mc_wire_header_decode(data, k, &lim, &hk);
        CHECK(rk == MC_EMORE || (rk == rc && rc < 0));
    }
    if (rc == MC_WIRE_HEADER_SIZE) {
        uint8_t out[MC_WIRE_HEADER_SIZE];
        mc_wire_header_encode(out, &h);
        CHECK(memcmp(out, data, MC_WIRE_HEADER_SIZE) == 0);
        CHECK(h.length + (uint64_t)MC_WIRE_HEADER_SIZE <= lim.max_frame);
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
