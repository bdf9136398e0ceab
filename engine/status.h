/* engine/status.h: the one status table of mesocore.
 *
 * Every function that can fail returns 0 (MC_OK) or a negative MC_E* code
 * from this table; decoders may also return a positive byte count. The table
 * is an X-macro so that the enum, mc_strerror() and mc_err_name() can never
 * disagree. Codes are stable: they appear in logs, the wire protocol and the
 * simulator's error messages. */
#ifndef MC_ENGINE_STATUS_H
#define MC_ENGINE_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

#define MC_STATUS_MAP(X)                                                                           \
    X(OK, 0, "success")                                                                            \
    X(EINVAL, -1, "invalid argument")                                                              \
    X(ENOMEM, -2, "out of memory")                                                                 \
    X(EAGAIN, -3, "try again")                                                                     \
    X(ENOENT, -4, "no such object")                                                                \
    X(EEXIST, -5, "object already exists")                                                         \
    X(ERANGE, -6, "value out of range")                                                            \
    X(ELIMIT, -7, "limit exceeded")                                                                \
    X(ESYNTAX, -8, "syntax error")                                                                 \
    X(ENOOFFER, -9, "no outstanding offer")                                                        \
    X(EEXCEED, -10, "more than is available")                                                      \
    X(EBUSY, -11, "object is busy")                                                                \
    X(EIO, -12, "input/output error")                                                              \
    X(EMORE, -13, "need more bytes")                                                               \
    X(EMAGIC, -14, "bad frame magic")                                                              \
    X(EVERSION, -15, "unsupported protocol version")                                               \
    X(ETYPE, -16, "unknown or unexpected message type")                                            \
    X(ETRUNC, -17, "field runs past its container")                                                \
    X(EVARINT, -18, "malformed or non-minimal varint")                                             \
    X(EFIELD, -19, "malformed field")                                                              \
    X(EMISSING, -20, "required field missing")                                                     \
    X(EDUP, -21, "duplicate field")                                                                \
    X(ESTRING, -22, "invalid UTF-8 or NUL in string")                                              \
    X(EID, -23, "invalid identifier")                                                              \
    X(EDEPTH, -24, "nesting too deep")

enum mc_status {
#define MC__STATUS_ENUM(name, code, text) MC_##name = (code),
    MC_STATUS_MAP(MC__STATUS_ENUM)
#undef MC__STATUS_ENUM
};

/* Returns a static, human-readable description of @code ("unknown status"
 * for codes outside the table). Context: any thread. */
const char *mc_strerror(int code);

/* Returns the symbolic name of @code without the MC_ prefix ("EINVAL"), or
 * "UNKNOWN". Context: any thread. */
const char *mc_err_name(int code);

#ifdef __cplusplus
}
#endif

#endif
