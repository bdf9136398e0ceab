/* net/stream.c: reassembles frames from a byte stream, in place.
 *
 * The buffer holds unread bytes in [head, tail). It starts at its initial
 * size (64 KiB unless the caller asks otherwise) and grows only when it is
 * full of a frame whose header has passed mc_wire_header_decode (so the
 * frame is within lim.max_frame), and then at most to twice its size: what
 * it holds stays proportional to the bytes the peer has actually sent, never
 * more than one frame limit, and nothing grows without a valid header. When
 * what is unread fits the initial size again it moves to the front and the
 * buffer shrinks back, so idle connections hold little. */
#include "net/wire.h"
#include "engine/status.h"

#include <stdlib.h>
#include <string.h>

int mc_wire_stream_init(mc_wire_stream_t *s, const mc_wire_limits_t *lim, unsigned accept)
{
    return mc_wire_stream_init_sized(s, lim, accept, MC_WIRE_STREAM_INITIAL);
}

int mc_wire_stream_init_sized(mc_wire_stream_t *s, const mc_wire_limits_t *lim, unsigned accept,
                              size_t initial)
{
    *s = (mc_wire_stream_t){.lim = *lim, .accept = accept};
    if (!mc_wire_limits_valid(lim) || initial < MC_WIRE_FRAME_MIN)
        return s->err = MC_EINVAL; /* the stream reports it from then on */
    s->initial = lim->max_frame < initial ? lim->max_frame : initial;
    s->cap = s->initial;
    s->buf = malloc(s->cap);
    if (!s->buf)
        return s->err = MC_ENOMEM;
    return MC_OK;
}

void mc_wire_stream_fini(mc_wire_stream_t *s)
{
    free(s->buf);
    *s = (mc_wire_stream_t){.err = MC_EINVAL}; /* not a stream any more */
}

static bool resize(mc_wire_stream_t *s, size_t cap)
{
    uint8_t *p = realloc(s->buf, cap);
    if (!p)
        return false;
    s->buf = p;
    s->cap = cap;
    return true;
}

size_t mc_wire_stream_space(mc_wire_stream_t *s, uint8_t **p)
{
    if (s->err)
        return 0;
    size_t unread = s->tail - s->head;
    if (s->cap > s->initial && unread <= s->initial) {
        /* shrink back once what is unread (and the frame it begins, when
         * its header is there) fits the initial size */
        mc_wire_header_t h;
        int rc = mc_wire_header_decode(s->buf + s->head, unread, &s->lim, &h);
        if (rc == MC_EMORE || (rc > 0 && MC_WIRE_HEADER_SIZE + (size_t)h.length <= s->initial)) {
            memmove(s->buf, s->buf + s->head, unread);
            s->head = 0;
            s->tail = unread;
            resize(s, s->initial); /* on failure keep the larger buffer */
        }
    }
    if (s->head == s->tail)
        s->head = s->tail = 0;
    if (s->tail == s->cap && s->head) {
        memmove(s->buf, s->buf + s->head, s->tail - s->head);
        s->tail -= s->head;
        s->head = 0;
    }
    if (s->tail == s->cap) {
        /* a partial frame fills the buffer: its header is whole (the buffer is
         * at least MC_WIRE_FRAME_MIN bytes), so its size is known and checked */
        mc_wire_header_t h;
        int rc = mc_wire_header_decode(s->buf, s->tail, &s->lim, &h);
        size_t need = rc > 0 ? MC_WIRE_HEADER_SIZE + (size_t)h.length : 0;
        if (rc < 0 && rc != MC_EMORE) {
            s->err = rc;
            return 0;
        }
        if (need <= s->cap) /* whole frames are waiting: read them first */
            return 0;
        if (need > 2 * s->cap) /* in step with what the peer has sent */
            need = 2 * s->cap;
        if (!resize(s, need)) {
            s->err = MC_ENOMEM;
            return 0;
        }
    }
    *p = s->buf + s->tail;
    return s->cap - s->tail;
}

void mc_wire_stream_commit(mc_wire_stream_t *s, size_t n)
{
    if (s->err)
        return;
    if (n > s->cap - s->tail) {
        s->err = MC_EINVAL; /* more than the room given: the stream is lost */
        return;
    }
    s->tail += n;
}

int mc_wire_stream_next(mc_wire_stream_t *s, mc_wire_msg_t *msg, mc_wire_error_t *err)
{
    if (s->err)
        return s->err;
    int rc = mc_wire_decode(s->buf + s->head, s->tail - s->head, &s->lim, s->accept, msg, err);
    if (rc > 0) {
        s->head += (size_t)rc;
        return 1;
    }
    if (rc == MC_EMORE)
        return 0;
    if (rc == MC_ETYPE) {
        s->head += MC_WIRE_HEADER_SIZE + (size_t)msg->hdr.length;
        return rc;
    }
    s->err = rc;
    return rc;
}
