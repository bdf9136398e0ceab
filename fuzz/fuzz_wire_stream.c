/* fuzz/fuzz_wire_stream.c: the stream reassembler. The first two input bytes
 * seed the sizes of the reads, the third the buffer's initial size, the rest
 * is the byte stream. Property: fed in
 * any pieces, the stream yields exactly the frames (and the same first fatal
 * error) that decoding the whole buffer frame by frame yields, and never
 * grows its buffer past the frame limit. */
#include "fuzz/wire_fuzz.h"

struct seen {
    uint16_t type;
    uint32_t length;
    uint64_t session;
    size_t off; /* where the frame starts in the input */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    uint32_t rng = (uint32_t)data[0] << 8 | data[1];
    /* a buffer of 64 to 1,084 bytes at first, so that inputs the fuzzer can
     * write fill it: compaction and growth up to the frame limit run */
    size_t initial = MC_WIRE_FRAME_MIN + (size_t)data[2] * 4;
    data += 3;
    size -= 3;
    mc_wire_limits_t lim = fuzz_lim;
    lim.max_frame = 4096;

    /* reference: whole-buffer decoding */
    enum { MAXF = 4096 };
    static struct seen want[MAXF];
    size_t nwant = 0, off = 0;
    int want_end = 0;
    while (nwant < MAXF) {
        mc_wire_msg_t m;
        int rc = mc_wire_decode(data + off, size - off, &lim, MC_TO_MASTER, &m, NULL);
        if (rc == MC_ETYPE) {
            want[nwant++] = (struct seen){m.hdr.type, UINT32_MAX, m.hdr.session, off};
            off += MC_WIRE_HEADER_SIZE + (size_t)m.hdr.length;
            continue;
        }
        if (rc <= 0) {
            want_end = rc == MC_EMORE ? 0 : rc;
            break;
        }
        want[nwant++] = (struct seen){m.hdr.type, m.hdr.length, m.hdr.session, off};
        off += (size_t)rc;
    }
    if (nwant == MAXF)
        return 0;

    mc_wire_stream_t s;
    CHECK(mc_wire_stream_init_sized(&s, &lim, MC_TO_MASTER, initial) == MC_OK);
    size_t got = 0, fed = 0;
    int end = 0;
    bool drain = true;
    while (!end) {
        mc_wire_msg_t m;
        /* mostly read every whole frame before receiving more; sometimes
         * receive first, so that the buffer can fill with whole frames */
        int rc = drain || fed == size ? mc_wire_stream_next(&s, &m, NULL) : 0;
        drain = true;
        if (rc == 1 || rc == MC_ETYPE) {
            rng = rng * 1103515245u + 12345u;
            drain = (rng >> 20) % 4 != 0;
            CHECK(got < nwant && want[got].type == m.hdr.type &&
                  want[got].session == m.hdr.session &&
                  want[got].length == (rc == 1 ? m.hdr.length : UINT32_MAX));
            /* the message lies inside the stream's buffer (reading it
             * through the accessors is the other targets' work) */
            CHECK(rc != 1 || (m.body.p >= s.buf + MC_WIRE_HEADER_SIZE &&
                              m.body.p + m.body.len <= s.buf + s.cap));
            /* and it holds the very bytes that were sent (compaction and
             * growth moved them intact) */
            CHECK(rc != 1 ||
                  memcmp(m.body.p, data + want[got].off + MC_WIRE_HEADER_SIZE, m.body.len) == 0);
            got++;
            continue;
        }
        if (rc < 0) {
            end = rc;
            break;
        }
        if (fed == size) /* next() ran: nothing more will come */
            break;
        uint8_t *p;
        size_t room = mc_wire_stream_space(&s, &p);
        CHECK(s.cap <= lim.max_frame);
        if (room == 0) {
            /* only a buffer full of whole frames asks to be read first */
            mc_wire_header_t h;
            CHECK(s.err == 0 && s.tail == s.cap &&
                  mc_wire_header_decode(s.buf + s.head, s.tail - s.head, &lim, &h) > 0 &&
                  MC_WIRE_HEADER_SIZE + (size_t)h.length <= s.tail - s.head);
            continue;
        }
        rng = rng * 1103515245u + 12345u;
        size_t k = 1 + (rng >> 16) % 97;
        if ((rng >> 8) % 8 == 0)
            k = room; /* sometimes a big read */
        k = k < size - fed ? k : size - fed;
        k = k < room ? k : room;
        memcpy(p, data + fed, k);
        mc_wire_stream_commit(&s, k);
        fed += k;
    }
    CHECK(got == nwant && end == want_end);
    mc_wire_stream_fini(&s);
    return 0;
}
