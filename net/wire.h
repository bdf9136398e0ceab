/* net/wire.h: the mesocore wire protocol (docs/protocol.md): frame header,
 * in-place decoder, encoder, and stream reassembler.
 *
 * Decoding never allocates and never copies: a decoded message is a view of
 * the receive buffer (records, strings and ranges point into it) and stays
 * valid while those bytes do. The decoder checks the whole frame against the
 * schema (net/msg.h) before it returns it, so a message that decodes can be
 * read with the accessors below without further checks, and a frame that
 * does not decode changed nothing. Every read is bounds-checked; offsets and
 * counts are compared against the bytes left before they are added.
 *
 * Results (engine/status.h): a positive byte count (a whole frame), MC_EMORE
 * (need more bytes), or a negative MC_E* error. No input makes the decoder
 * assert, abort or read outside [buf, buf + len). */
#ifndef MC_NET_WIRE_H
#define MC_NET_WIRE_H

#include "net/msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MC_WIRE_MAGIC0      0x4D /* 'M' */
#define MC_WIRE_MAGIC1      0x43 /* 'C' */
#define MC_WIRE_VERSION     1
#define MC_WIRE_HEADER_SIZE 20
#define MC_WIRE_FLAG_MORE   0x01u /* more frames of the same batch follow */
#define MC_WIRE_FLAGS_KNOWN MC_WIRE_FLAG_MORE
#define MC_WIRE_ID_MAX      128 /* default longest ID */
#define MC_WIRE_ROLE_MAX    255 /* default longest ROLE (the engine's longest role name) */
#define MC_WIRE_MAX_FIELDS  16  /* most fields a record may define */

/* Who may receive a message type (MC_WIRE_TYPES' DIRECTION). */
enum {
    MC_TO_MASTER = 1u << 0,
    MC_TO_AGENT = 1u << 1,
    MC_TO_FRAMEWORK = 1u << 2,
    MC_TO_ANY = MC_TO_MASTER | MC_TO_AGENT | MC_TO_FRAMEWORK,
};

/* Limits a receiver enforces before it allocates or walks anything. */
typedef struct mc_wire_limits {
    uint32_t max_frame;  /* whole frame, header included; default 4 MiB */
    uint32_t max_string; /* STR fields whose schema gives no maximum; default 4096 */
    uint32_t max_repeat; /* occurrences of one field, ranges in one value; default 65536 */
    uint32_t max_depth;  /* records nested in records; default 8 */
} mc_wire_limits_t;

#define MC_WIRE_LIMITS_DEFAULT                                                                     \
    ((mc_wire_limits_t){                                                                           \
        .max_frame = 4u << 20, .max_string = 4096, .max_repeat = 65536, .max_depth = 8})
/* bounds on the limits themselves (mc_wire_limits_valid) */
#define MC_WIRE_FRAME_MIN 64
#define MC_WIRE_FRAME_MAX (1u << 30)

bool mc_wire_limits_valid(const mc_wire_limits_t *lim);

typedef struct mc_wire_header {
    uint8_t version;
    uint8_t flags;
    uint16_t type;
    uint32_t length; /* payload bytes after the header */
    uint64_t session;
} mc_wire_header_t;

/* Decodes a header from the first @len bytes of @buf. Returns
 * MC_WIRE_HEADER_SIZE, MC_EMORE when @len is short (after checking the bytes
 * present: a bad magic fails on its first byte), MC_EMAGIC, MC_EVERSION,
 * MC_EFIELD (reserved flags or bits set) or MC_ELIMIT (frame above
 * lim->max_frame). The type is not checked here. */
int mc_wire_header_decode(const uint8_t *buf, size_t len, const mc_wire_limits_t *lim,
                          mc_wire_header_t *h);
/* Writes the 20 header bytes. */
void mc_wire_header_encode(uint8_t out[MC_WIRE_HEADER_SIZE], const mc_wire_header_t *h);

struct mc_wire_schema;

/* A validated record: its schema and its bytes. */
typedef struct mc_wire_rec {
    const struct mc_wire_schema *schema;
    const uint8_t *p;
    uint32_t len;
} mc_wire_rec_t;

typedef struct mc_wire_msg {
    mc_wire_header_t hdr;
    mc_wire_rec_t body;
} mc_wire_msg_t;

/* Where and why decoding failed (optional output). */
typedef struct mc_wire_error {
    int code;
    uint32_t offset; /* byte offset in the frame */
    uint16_t type;   /* message type, 0 if unknown */
    uint8_t field;   /* field number, 0 if none */
    const char *record;
} mc_wire_error_t;

/* Decodes one frame at the start of @buf. @accept is the set of MC_TO_* bits
 * of this receiver: a type not addressed to it is MC_ETYPE, as is an unknown
 * type. Returns the frame size (> 0) with *msg filled, MC_EMORE, or an error
 * (described in *err when @err is not NULL). On MC_ETYPE the frame itself was
 * well formed: the header is in msg->hdr and the frame can be skipped. */
int mc_wire_decode(const uint8_t *buf, size_t len, const mc_wire_limits_t *lim, unsigned accept,
                   mc_wire_msg_t *msg, mc_wire_error_t *err);

/* Validates @len bytes as the body of message type @type (any direction).
 * Returns MC_OK with *rec filled, or an error. */
int mc_wire_decode_body(uint16_t type, const uint8_t *p, size_t len, const mc_wire_limits_t *lim,
                        mc_wire_rec_t *rec, mc_wire_error_t *err);

/* ---- reading a validated record ---------------------------------------- */

/* One value: a number (kinds below MC_WK_STR: u), or bytes in the frame (p,
 * len; for those kinds u is the length too). Strings are not NUL-terminated.
 * A value remembers its field and kind, so that mc_wire_sub() and
 * mc_wire_ranges_init() only read what the decoder checked as such. */
typedef struct mc_wire_val {
    uint64_t u;
    const uint8_t *p;
    uint32_t len;
    uint8_t num;  /* field number */
    uint8_t kind; /* enum mc_wire_kind, MC_WK_UNKNOWN for a field the schema lacks */
} mc_wire_val_t;

/* Value kinds (net/msg.h's KIND column). Numbers come first: a kind below
 * MC_WK_STR is a varint on the wire, the others are length-delimited. */
enum mc_wire_kind {
    MC_WK_U64,
    MC_WK_BOOL,
    MC_WK_ENUM,
    MC_WK_QTY,
    MC_WK_MS,
    MC_WK_STR,
    MC_WK_ID,
    MC_WK_ROLE,
    MC_WK_UUID,
    MC_WK_RANGES,
    MC_WK_MSG,
    MC_WK_UNKNOWN = 0xff,
};
/* The kind of field @num of @r's schema, or -1 for a number it does not define. */
int mc_wire_kind(const mc_wire_rec_t *r, unsigned num);

/* First occurrence of field @num: true with *v, false when absent (*v is
 * then an empty value of kind MC_WK_UNKNOWN). */
bool mc_wire_get(const mc_wire_rec_t *r, unsigned num, mc_wire_val_t *v);
/* Number of occurrences of field @num. */
uint32_t mc_wire_count(const mc_wire_rec_t *r, unsigned num);
/* The record held by @v, a value of MSG field @num read from @r; an empty
 * record (schema NULL) for any other value. */
mc_wire_rec_t mc_wire_sub(const mc_wire_rec_t *r, unsigned num, const mc_wire_val_t *v);

/* Occurrences of one field, in order. */
typedef struct mc_wire_iter {
    const uint8_t *p;
    uint32_t len, pos;
    unsigned num;
    uint8_t kind;
} mc_wire_iter_t;
void mc_wire_iter_init(mc_wire_iter_t *it, const mc_wire_rec_t *r, unsigned num);
bool mc_wire_next(mc_wire_iter_t *it, mc_wire_val_t *v);

/* The ranges of a RANGES value, ascending, disjoint, non-adjacent. */
typedef struct mc_wire_ranges {
    const uint8_t *p;
    uint32_t len, pos, left;
    uint64_t end;
    bool started;
} mc_wire_ranges_t;
/* Returns the number of ranges (0 for a value that is not RANGES). */
uint32_t mc_wire_ranges_init(mc_wire_ranges_t *it, const mc_wire_val_t *v);
bool mc_wire_ranges_next(mc_wire_ranges_t *it, uint64_t *begin, uint64_t *end);

/* ---- encoding ------------------------------------------------------------ */

/* Writes frames into a caller buffer. Errors are sticky: once the buffer is
 * full (MC_ELIMIT), a call is out of place or a value is not encodable
 * (MC_EINVAL: a field outside a frame, nested frames, reserved flags, field
 * numbers outside 1..255, unsorted ranges, an unbalanced record) or records
 * nest deeper than 8 (MC_EDEPTH), later calls do nothing and
 * mc_wire_end_frame() returns the first error. The writer does not check the
 * schema; the receiver does. */
typedef struct mc_wire_writer {
    uint8_t *buf;
    size_t cap, len;
    size_t frame;   /* offset of the open frame's header */
    size_t open[8]; /* offsets of the open records' length bytes */
    unsigned depth;
    int err;
} mc_wire_writer_t;

void mc_wire_writer_init(mc_wire_writer_t *w, uint8_t *buf, size_t cap);
void mc_wire_begin_frame(mc_wire_writer_t *w, uint16_t type, uint8_t flags, uint64_t session);
/* Closes the frame; returns its size or the writer's error. */
int mc_wire_end_frame(mc_wire_writer_t *w);
void mc_wire_put_u64(mc_wire_writer_t *w, unsigned num, uint64_t v);
void mc_wire_put_bytes(mc_wire_writer_t *w, unsigned num, const void *p, size_t len);
void mc_wire_put_str(mc_wire_writer_t *w, unsigned num, const char *s);
/* @r holds @n [begin, end] pairs, ascending and separated by at least one. */
void mc_wire_put_ranges(mc_wire_writer_t *w, unsigned num, const uint64_t (*r)[2], size_t n);
/* A nested record: begin, its fields, end. */
void mc_wire_begin(mc_wire_writer_t *w, unsigned num);
void mc_wire_end(mc_wire_writer_t *w);
/* A RESOURCE record of a scalar as field @num: @name, @thousandths and, unless
 * NULL, the reservation @role. */
void mc_wire_put_scalar(mc_wire_writer_t *w, unsigned num, const char *name, uint64_t thousandths,
                        const char *role);

/* Writes the fields of validated record @r in canonical form (field-number
 * order, unknown fields dropped). */
void mc_wire_put_rec(mc_wire_writer_t *w, const mc_wire_rec_t *r);
/* Whether two validated records of one schema hold the same fields. */
bool mc_wire_rec_equal(const mc_wire_rec_t *a, const mc_wire_rec_t *b);

/* ---- schema introspection --------------------------------------------- */

const char *mc_wire_type_name(uint16_t type); /* NULL for unknown types */
const char *mc_wire_rec_name(const mc_wire_rec_t *r);
/* A field of a schema as net/msg.h defines it, for tools that walk messages
 * generically (transcoders, reference checkers). */
enum mc_wire_card { MC_WC_OPT, MC_WC_REQ, MC_WC_REP, MC_WC_REP1 };
typedef struct mc_wire_field_info {
    const char *name;
    uint8_t kind;  /* enum mc_wire_kind */
    uint8_t card;  /* enum mc_wire_card */
    uint8_t group; /* 1: exactly one field of the group is present */
    uint32_t max_count;
    uint64_t max;
    const struct mc_wire_schema *sub; /* MSG: the record's schema */
} mc_wire_field_info_t;
/* The body schema of message type @type, NULL for unknown types. */
const struct mc_wire_schema *mc_wire_type_schema(uint16_t type);
/* Field @num of @s: true with *out, false past the schema's fields. */
bool mc_wire_field_get(const struct mc_wire_schema *s, unsigned num, mc_wire_field_info_t *out);

/* Whether the schema tables are well formed (dense field numbers, sorted
 * type codes); a unit test asserts it. */
bool mc_wire_schema_ok(void);
/* Writes docs/protocol.md's generated tables to @f (a FILE *). */
void mc_wire_spec_markdown(void *f);

/* Prints every frame of @buf as text, field by field, to @out (a FILE *):
 * what `mesocore wire-dump` shows. Unknown types are noted and skipped; the
 * first frame that does not decode is reported with its reason and place and
 * ends the dump. Returns MC_OK, or that frame's error (MC_EMORE: cut short). */
int mc_wire_dump(void *out, const uint8_t *buf, size_t len, const mc_wire_limits_t *lim);

/* ---- stream reassembly --------------------------------------------------- */

/* Turns a byte stream (one connection) into frames. Bytes are received
 * straight into the stream's buffer (mc_wire_stream_space, then
 * mc_wire_stream_commit), and frames are decoded in place. The buffer starts
 * small and grows, at most doubling each time it is full, towards the size a
 * validated header asks for, never beyond lim.max_frame; it shrinks back
 * when what is unread fits its initial size. A message returned by
 * mc_wire_stream_next() points into the buffer and is valid until the next
 * mc_wire_stream_space() call. */
typedef struct mc_wire_stream {
    uint8_t *buf;
    size_t cap, head, tail; /* unread bytes are buf[head, tail) */
    size_t initial;         /* the size it starts at and shrinks back to */
    mc_wire_limits_t lim;
    unsigned accept;
    int err; /* sticky: the connection is done */
} mc_wire_stream_t;

#define MC_WIRE_STREAM_INITIAL 65536u

/* A stream whose buffer starts at MC_WIRE_STREAM_INITIAL bytes (or the frame
 * limit, when smaller). MC_EINVAL for limits mc_wire_limits_valid() refuses,
 * MC_ENOMEM; either way the stream then reports that error from every call. */
int mc_wire_stream_init(mc_wire_stream_t *s, const mc_wire_limits_t *lim, unsigned accept);
/* The same with another initial size (at least MC_WIRE_FRAME_MIN): a master
 * with tens of thousands of connections may start them smaller. */
int mc_wire_stream_init_sized(mc_wire_stream_t *s, const mc_wire_limits_t *lim, unsigned accept,
                              size_t initial);
void mc_wire_stream_fini(mc_wire_stream_t *s);
/* Room for at least one more byte: returns its size and sets *p. Returns 0
 * when the stream has failed (s->err, MC_ENOMEM if the buffer could not
 * grow), or when the buffer is full of whole frames not yet read: call
 * mc_wire_stream_next() until it returns 0 before asking for room. */
size_t mc_wire_stream_space(mc_wire_stream_t *s, uint8_t **p);
/* @n bytes were written at the room space() gave; more than that room is
 * MC_EINVAL and fails the stream. */
void mc_wire_stream_commit(mc_wire_stream_t *s, size_t n);
/* Next whole frame: 1 with *msg, 0 when more bytes are needed, or a negative
 * error after which the stream returns that error forever (the connection is
 * done). The exception is MC_ETYPE: that frame was well formed, so it is
 * skipped, reported once with its header in msg->hdr, and the stream goes on. */
int mc_wire_stream_next(mc_wire_stream_t *s, mc_wire_msg_t *msg, mc_wire_error_t *err);

#ifdef __cplusplus
}
#endif

#endif
