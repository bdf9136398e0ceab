/* net/msg.h: every message and record of the mesocore wire protocol.
 *
 * This file is the protocol's schema; docs/protocol.md is generated from it
 * (`mesocore protocol`) and a test keeps the two equal. Each record is an
 * X-macro of rows
 *
 *   F(RECORD, NUM, NAME, KIND, CARD, GROUP, MAXCOUNT, MAX, SUB)
 *
 *   NUM       field number; the numbers of a record are dense from 1
 *   KIND      value kind (MC_WK_*): how it is encoded and checked
 *   CARD      OPT (at most once), REQ (exactly once), REP (0..MAXCOUNT times),
 *             REP1 (1..MAXCOUNT times)
 *   GROUP     0, or 1: exactly one field of group 1 must be present
 *   MAXCOUNT  REP/REP1: most occurrences; RANGES: most ranges (0: the limit)
 *   MAX       numbers: largest value; STR, ID, ROLE: longest length in bytes
 *             (0: the limit); RANGES: largest endpoint
 *   SUB       MSG: the record it holds; otherwise NONE
 *
 * Field numbers and kinds never change meaning once released; new fields get
 * new numbers (old peers skip them). */
#ifndef MC_NET_MSG_H
#define MC_NET_MSG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MC_WIRE_QTY_MAX   INT64_MAX             /* thousandths, as engine/res.h */
#define MC_WIRE_MS_MAX    UINT64_C(31536000000) /* 365 days in milliseconds */
#define MC_WIRE_RANGE_MAX (UINT64_C(1) << 62)   /* as engine/res.h */
#define MC_WIRE_U64_MAX   UINT64_MAX

/* Task states (STATUS.state, RUNNING.state). */
enum mc_task_state {
    MC_TASK_STAGING,
    MC_TASK_STARTING,
    MC_TASK_RUNNING,
    MC_TASK_FINISHED,
    MC_TASK_FAILED,
    MC_TASK_KILLED,
    MC_TASK_KILLING,
    MC_TASK_LOST,
    MC_TASK_ERROR,
    MC_TASK_DROPPED,
    MC_TASK_UNREACHABLE,
    MC_TASK_GONE,
    MC_TASK_UNKNOWN,
};
#define MC_TASK_STATE_MAX 12

/* HELLO.peer */
enum mc_peer { MC_PEER_AGENT, MC_PEER_FRAMEWORK, MC_PEER_RELAY, MC_PEER_MASTER };
#define MC_PEER_MAX 3

/* TASK.numa: how the agent places a task on NUMA nodes. */
enum mc_numa_policy { MC_NUMA_NONE, MC_NUMA_PACK, MC_NUMA_SPREAD };
#define MC_NUMA_POLICY_MAX 2

/* ---- records carried inside messages ---------------------------------- */

#define MC_WIRE_REC_RESOURCE(F)                                                                    \
    F(RESOURCE, 1, NAME, ID, REQ, 0, 0, 64, NONE)                                                  \
    F(RESOURCE, 2, SCALAR, QTY, OPT, 1, 0, MC_WIRE_QTY_MAX, NONE)                                  \
    F(RESOURCE, 3, RANGES, RANGES, OPT, 1, 0, MC_WIRE_RANGE_MAX, NONE)                             \
    F(RESOURCE, 4, ITEM, STR, REP, 1, 4096, 256, NONE)                                             \
    F(RESOURCE, 5, ROLE, ROLE, OPT, 0, 0, 0, NONE)

#define MC_WIRE_REC_ATTRIBUTE(F)                                                                   \
    F(ATTRIBUTE, 1, NAME, ID, REQ, 0, 0, 64, NONE)                                                 \
    F(ATTRIBUTE, 2, TEXT, STR, OPT, 1, 0, 1024, NONE)                                              \
    F(ATTRIBUTE, 3, SCALAR, QTY, OPT, 1, 0, MC_WIRE_QTY_MAX, NONE)                                 \
    F(ATTRIBUTE, 4, RANGES, RANGES, OPT, 1, 0, MC_WIRE_RANGE_MAX, NONE)

#define MC_WIRE_REC_NUMA_NODE(F)                                                                   \
    F(NUMA_NODE, 1, ID, U64, REQ, 0, 0, 4095, NONE)                                                \
    F(NUMA_NODE, 2, CPUS, RANGES, REQ, 0, 4096, 1048575, NONE)                                     \
    F(NUMA_NODE, 3, MEMORY_MB, U64, OPT, 0, 0, UINT64_C(1) << 40, NONE)                            \
    F(NUMA_NODE, 4, DISTANCE, U64, REP, 0, 4096, 255, NONE)

#define MC_WIRE_REC_ENV(F)                                                                         \
    F(ENV, 1, NAME, STR, REQ, 0, 0, 256, NONE)                                                     \
    F(ENV, 2, VALUE, STR, REQ, 0, 0, 0, NONE)

#define MC_WIRE_REC_TASK(F)                                                                        \
    F(TASK, 1, TASK_ID, ID, REQ, 0, 0, 0, NONE)                                                    \
    F(TASK, 2, NAME, STR, OPT, 0, 0, 256, NONE)                                                    \
    F(TASK, 3, AGENT_ID, ID, REQ, 0, 0, 0, NONE)                                                   \
    F(TASK, 4, RESOURCES, MSG, REP1, 0, 256, 0, RESOURCE)                                          \
    F(TASK, 5, COMMAND, STR, OPT, 0, 0, 0, NONE)                                                   \
    F(TASK, 6, ENV, MSG, REP, 0, 256, 0, ENV)                                                      \
    F(TASK, 7, NUMA, ENUM, OPT, 0, 0, MC_NUMA_POLICY_MAX, NONE)

#define MC_WIRE_REC_STATUS(F)                                                                      \
    F(STATUS, 1, TASK_ID, ID, REQ, 0, 0, 0, NONE)                                                  \
    F(STATUS, 2, FRAMEWORK_ID, ID, REQ, 0, 0, 0, NONE)                                             \
    F(STATUS, 3, AGENT_ID, ID, OPT, 0, 0, 0, NONE)                                                 \
    F(STATUS, 4, STATE, ENUM, REQ, 0, 0, MC_TASK_STATE_MAX, NONE)                                  \
    F(STATUS, 5, REASON, U64, OPT, 0, 0, 65535, NONE)                                              \
    F(STATUS, 6, MESSAGE, STR, OPT, 0, 0, 0, NONE)                                                 \
    F(STATUS, 7, UUID, UUID, OPT, 0, 0, 0, NONE)                                                   \
    F(STATUS, 8, TIME_NS, U64, OPT, 0, 0, MC_WIRE_U64_MAX, NONE)                                   \
    F(STATUS, 9, HEALTHY, BOOL, OPT, 0, 0, 1, NONE)

#define MC_WIRE_REC_RUNNING(F)                                                                     \
    F(RUNNING, 1, TASK_ID, ID, REQ, 0, 0, 0, NONE)                                                 \
    F(RUNNING, 2, FRAMEWORK_ID, ID, REQ, 0, 0, 0, NONE)                                            \
    F(RUNNING, 3, STATE, ENUM, REQ, 0, 0, MC_TASK_STATE_MAX, NONE)                                 \
    F(RUNNING, 4, RESOURCES, MSG, REP, 0, 256, 0, RESOURCE)

#define MC_WIRE_REC_OFFER(F)                                                                       \
    F(OFFER, 1, OFFER_ID, ID, REQ, 0, 0, 0, NONE)                                                  \
    F(OFFER, 2, AGENT_ID, ID, REQ, 0, 0, 0, NONE)                                                  \
    F(OFFER, 3, HOSTNAME, STR, REQ, 0, 0, 255, NONE)                                               \
    F(OFFER, 4, RESOURCES, MSG, REP1, 0, 256, 0, RESOURCE)                                         \
    F(OFFER, 5, ATTRIBUTES, MSG, REP, 0, 256, 0, ATTRIBUTE)

#define MC_WIRE_REC_TASKREF(F)                                                                     \
    F(TASKREF, 1, TASK_ID, ID, REQ, 0, 0, 0, NONE)                                                 \
    F(TASKREF, 2, AGENT_ID, ID, OPT, 0, 0, 0, NONE)

/* ---- message bodies ------------------------------------------------------ */

#define MC_WIRE_REC_HELLO(F)                                                                       \
    F(HELLO, 1, PEER, ENUM, REQ, 0, 0, MC_PEER_MAX, NONE)                                          \
    F(HELLO, 2, NAME, STR, OPT, 0, 0, 256, NONE)                                                   \
    F(HELLO, 3, MAX_FRAME, U64, OPT, 0, 0, UINT32_MAX, NONE)

#define MC_WIRE_REC_ERROR(F)                                                                       \
    F(ERROR, 1, CODE, U64, REQ, 0, 0, 65535, NONE)                                                 \
    F(ERROR, 2, MESSAGE, STR, OPT, 0, 0, 0, NONE)                                                  \
    F(ERROR, 3, TYPE, U64, OPT, 0, 0, 65535, NONE)

#define MC_WIRE_REC_PING(F)                                                                        \
    F(PING, 1, SEQ, U64, REQ, 0, 0, MC_WIRE_U64_MAX, NONE)                                         \
    F(PING, 2, TIME_NS, U64, OPT, 0, 0, MC_WIRE_U64_MAX, NONE)

#define MC_WIRE_REC_PONG(F)                                                                        \
    F(PONG, 1, SEQ, U64, REQ, 0, 0, MC_WIRE_U64_MAX, NONE)                                         \
    F(PONG, 2, TIME_NS, U64, OPT, 0, 0, MC_WIRE_U64_MAX, NONE)

/* what an agent says about itself, in AGENT_REGISTER and AGENT_REREGISTER */
#define MC__WIRE_AGENT_INFO(F, REC)                                                                \
    F(REC, 1, HOSTNAME, STR, REQ, 0, 0, 255, NONE)                                                 \
    F(REC, 2, PORT, U64, OPT, 0, 0, 65535, NONE)                                                   \
    F(REC, 3, RESOURCES, MSG, REP, 0, 256, 0, RESOURCE)                                            \
    F(REC, 4, ATTRIBUTES, MSG, REP, 0, 256, 0, ATTRIBUTE)                                          \
    F(REC, 5, NUMA, MSG, REP, 0, 4096, 0, NUMA_NODE)                                               \
    F(REC, 6, VERSION, STR, OPT, 0, 0, 64, NONE)

#define MC_WIRE_REC_AGENT_REGISTER(F) MC__WIRE_AGENT_INFO(F, AGENT_REGISTER)

#define MC_WIRE_REC_AGENT_REREGISTER(F)                                                            \
    MC__WIRE_AGENT_INFO(F, AGENT_REREGISTER)                                                       \
    F(AGENT_REREGISTER, 7, AGENT_ID, ID, REQ, 0, 0, 0, NONE)                                       \
    F(AGENT_REREGISTER, 8, TASKS, MSG, REP, 0, 65536, 0, RUNNING)

#define MC_WIRE_REC_AGENT_REGISTERED(F)                                                            \
    F(AGENT_REGISTERED, 1, AGENT_ID, ID, REQ, 0, 0, 0, NONE)                                       \
    F(AGENT_REGISTERED, 2, HEARTBEAT_MS, MS, OPT, 0, 0, MC_WIRE_MS_MAX, NONE)

#define MC_WIRE_REC_AGENT_UPDATE(F) F(AGENT_UPDATE, 1, RESOURCES, MSG, REP, 0, 256, 0, RESOURCE)

#define MC_WIRE_REC_AGENT_STATUS(F) F(AGENT_STATUS, 1, STATUS, MSG, REQ, 0, 0, 0, STATUS)

#define MC_WIRE_REC_AGENT_ACK(F)                                                                   \
    F(AGENT_ACK, 1, FRAMEWORK_ID, ID, REQ, 0, 0, 0, NONE)                                          \
    F(AGENT_ACK, 2, TASK_ID, ID, REQ, 0, 0, 0, NONE)                                               \
    F(AGENT_ACK, 3, UUID, UUID, REQ, 0, 0, 0, NONE)

#define MC_WIRE_REC_AGENT_LAUNCH(F)                                                                \
    F(AGENT_LAUNCH, 1, FRAMEWORK_ID, ID, REQ, 0, 0, 0, NONE)                                       \
    F(AGENT_LAUNCH, 2, TASKS, MSG, REP1, 0, 1024, 0, TASK)

#define MC_WIRE_REC_AGENT_KILL(F)                                                                  \
    F(AGENT_KILL, 1, FRAMEWORK_ID, ID, REQ, 0, 0, 0, NONE)                                         \
    F(AGENT_KILL, 2, TASK_ID, ID, REQ, 0, 0, 0, NONE)                                              \
    F(AGENT_KILL, 3, GRACE_MS, MS, OPT, 0, 0, MC_WIRE_MS_MAX, NONE)

#define MC_WIRE_REC_AGENT_SHUTDOWN(F) F(AGENT_SHUTDOWN, 1, REASON, STR, OPT, 0, 0, 0, NONE)

#define MC_WIRE_REC_SUBSCRIBE(F)                                                                   \
    F(SUBSCRIBE, 1, NAME, STR, REQ, 0, 0, 256, NONE)                                               \
    F(SUBSCRIBE, 2, USER, STR, OPT, 0, 0, 256, NONE)                                               \
    F(SUBSCRIBE, 3, ROLES, ROLE, REP1, 0, 64, 0, NONE)                                             \
    F(SUBSCRIBE, 4, FRAMEWORK_ID, ID, OPT, 0, 0, 0, NONE)                                          \
    F(SUBSCRIBE, 5, FAILOVER_MS, MS, OPT, 0, 0, MC_WIRE_MS_MAX, NONE)                              \
    F(SUBSCRIBE, 6, CAPABILITIES, U64, OPT, 0, 0, MC_WIRE_U64_MAX, NONE)                           \
    F(SUBSCRIBE, 7, PRINCIPAL, STR, OPT, 0, 0, 256, NONE)

#define MC_WIRE_REC_SUBSCRIBED(F)                                                                  \
    F(SUBSCRIBED, 1, FRAMEWORK_ID, ID, REQ, 0, 0, 0, NONE)                                         \
    F(SUBSCRIBED, 2, HEARTBEAT_MS, MS, OPT, 0, 0, MC_WIRE_MS_MAX, NONE)

#define MC_WIRE_REC_OFFERS(F) F(OFFERS, 1, OFFERS, MSG, REP1, 0, 0, 0, OFFER)

#define MC_WIRE_REC_ACCEPT(F)                                                                      \
    F(ACCEPT, 1, OFFER_IDS, ID, REP1, 0, 1024, 0, NONE)                                            \
    F(ACCEPT, 2, TASKS, MSG, REP, 0, 1024, 0, TASK)                                                \
    F(ACCEPT, 3, REFUSE_MS, MS, OPT, 0, 0, MC_WIRE_MS_MAX, NONE)

#define MC_WIRE_REC_DECLINE(F)                                                                     \
    F(DECLINE, 1, OFFER_IDS, ID, REP1, 0, 0, 0, NONE)                                              \
    F(DECLINE, 2, REFUSE_MS, MS, OPT, 0, 0, MC_WIRE_MS_MAX, NONE)

#define MC_WIRE_REC_SUPPRESS(F) F(SUPPRESS, 1, ROLES, ROLE, REP, 0, 64, 0, NONE)

#define MC_WIRE_REC_REVIVE(F) F(REVIVE, 1, ROLES, ROLE, REP, 0, 64, 0, NONE)

#define MC_WIRE_REC_KILL(F)                                                                        \
    F(KILL, 1, TASK_ID, ID, REQ, 0, 0, 0, NONE)                                                    \
    F(KILL, 2, AGENT_ID, ID, OPT, 0, 0, 0, NONE)

#define MC_WIRE_REC_ACKNOWLEDGE(F)                                                                 \
    F(ACKNOWLEDGE, 1, AGENT_ID, ID, REQ, 0, 0, 0, NONE)                                            \
    F(ACKNOWLEDGE, 2, TASK_ID, ID, REQ, 0, 0, 0, NONE)                                             \
    F(ACKNOWLEDGE, 3, UUID, UUID, REQ, 0, 0, 0, NONE)

#define MC_WIRE_REC_RECONCILE(F) F(RECONCILE, 1, TASKS, MSG, REP, 0, 0, 0, TASKREF)

#define MC_WIRE_REC_TEARDOWN(F)

#define MC_WIRE_REC_RESCIND(F) F(RESCIND, 1, OFFER_ID, ID, REQ, 0, 0, 0, NONE)

#define MC_WIRE_REC_UPDATE(F) F(UPDATE, 1, STATUS, MSG, REQ, 0, 0, 0, STATUS)

/* Every record: R(NAME). Nested records first. */
/* clang-format off */
#define MC_WIRE_RECORDS(R)                                                                         \
    R(RESOURCE) R(ATTRIBUTE) R(NUMA_NODE) R(ENV) R(TASK) R(STATUS) R(RUNNING) R(OFFER)             \
    R(TASKREF) R(HELLO) R(ERROR) R(PING) R(PONG) R(AGENT_REGISTER) R(AGENT_REREGISTER)             \
    R(AGENT_REGISTERED) R(AGENT_UPDATE) R(AGENT_STATUS) R(AGENT_ACK) R(AGENT_LAUNCH)               \
    R(AGENT_KILL) R(AGENT_SHUTDOWN) R(SUBSCRIBE) R(SUBSCRIBED) R(OFFERS) R(ACCEPT) R(DECLINE)      \
    R(SUPPRESS) R(REVIVE) R(KILL) R(ACKNOWLEDGE) R(RECONCILE) R(TEARDOWN) R(RESCIND) R(UPDATE)
/* clang-format on */

/* Message types: T(CODE, NAME, DIRECTION, FAMILY). The body of type NAME is
 * record NAME. DIRECTION says who may receive it (MC_TO_* bits). */
#define MC_WIRE_TYPES(T)                                                                           \
    T(0x0001, HELLO, ANY, CONN)                                                                    \
    T(0x0002, ERROR, ANY, CONN)                                                                    \
    T(0x0003, PING, ANY, CONN)                                                                     \
    T(0x0004, PONG, ANY, CONN)                                                                     \
    T(0x0101, AGENT_REGISTER, MASTER, AGENT)                                                       \
    T(0x0102, AGENT_REREGISTER, MASTER, AGENT)                                                     \
    T(0x0103, AGENT_REGISTERED, AGENT, AGENT)                                                      \
    T(0x0104, AGENT_UPDATE, MASTER, AGENT)                                                         \
    T(0x0105, AGENT_STATUS, MASTER, AGENT)                                                         \
    T(0x0106, AGENT_ACK, AGENT, AGENT)                                                             \
    T(0x0107, AGENT_LAUNCH, AGENT, AGENT)                                                          \
    T(0x0108, AGENT_KILL, AGENT, AGENT)                                                            \
    T(0x0109, AGENT_SHUTDOWN, AGENT, AGENT)                                                        \
    T(0x0201, SUBSCRIBE, MASTER, FRAMEWORK)                                                        \
    T(0x0202, SUBSCRIBED, FRAMEWORK, FRAMEWORK)                                                    \
    T(0x0203, OFFERS, FRAMEWORK, FRAMEWORK)                                                        \
    T(0x0204, ACCEPT, MASTER, FRAMEWORK)                                                           \
    T(0x0205, DECLINE, MASTER, FRAMEWORK)                                                          \
    T(0x0206, SUPPRESS, MASTER, FRAMEWORK)                                                         \
    T(0x0207, REVIVE, MASTER, FRAMEWORK)                                                           \
    T(0x0208, KILL, MASTER, FRAMEWORK)                                                             \
    T(0x0209, ACKNOWLEDGE, MASTER, FRAMEWORK)                                                      \
    T(0x020A, RECONCILE, MASTER, FRAMEWORK)                                                        \
    T(0x020B, TEARDOWN, MASTER, FRAMEWORK)                                                         \
    T(0x020C, RESCIND, FRAMEWORK, FRAMEWORK)                                                       \
    T(0x020D, UPDATE, FRAMEWORK, FRAMEWORK)

/* Field numbers: MC_<RECORD>_<FIELD>, e.g. MC_OFFER_AGENT_ID. */
#define MC__WIRE_FIELD_ENUM(rec, num, name, ...) MC_##rec##_##name = num,
#define MC__WIRE_REC_ENUM(rec)                                                                     \
    enum { MC__##rec##_BEGIN, MC_WIRE_REC_##rec(MC__WIRE_FIELD_ENUM) MC__##rec##_END };
MC_WIRE_RECORDS(MC__WIRE_REC_ENUM)
#undef MC__WIRE_REC_ENUM
#undef MC__WIRE_FIELD_ENUM

/* Message type codes: MC_MSG_<NAME>. */
enum mc_msg_type {
#define MC__WIRE_TYPE_ENUM(code, name, dir, fam) MC_MSG_##name = code,
    MC_WIRE_TYPES(MC__WIRE_TYPE_ENUM)
#undef MC__WIRE_TYPE_ENUM
};

#ifdef __cplusplus
}
#endif

#endif
