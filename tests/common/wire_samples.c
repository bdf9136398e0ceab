/* tests/common/wire_samples.c: see wire_samples.h. */
#include "tests/common/wire_samples.h"

#include <stdio.h>

const uint16_t mc_sample_types[] = {
#define MC__SAMPLE_TYPE(code, name, dir, fam) MC_MSG_##name,
    MC_WIRE_TYPES(MC__SAMPLE_TYPE)
#undef MC__SAMPLE_TYPE
};
const unsigned mc_sample_ntypes = sizeof mc_sample_types / sizeof mc_sample_types[0];

static const uint8_t uuid[16] = {0x3b, 0x1f, 0x8a, 0x42, 0x90, 0x01, 0x4c, 0x7e,
                                 0xa5, 0x11, 0x6d, 0x02, 0xee, 0x70, 0x19, 0xc4};

/* an agent's resources: cpus 24, mem 4096, disk 4096, ports with 17 free
 * ranges between 16 used fragments, as the DeclineOffers benchmark agent */
static void resources(mc_wire_writer_t *w, unsigned num, unsigned size)
{
    mc_wire_put_scalar(w, num, "cpus", 24000, NULL);
    if (!size)
        return;
    mc_wire_put_scalar(w, num, "mem", 4096000, NULL);
    mc_wire_put_scalar(w, num, "disk", 4096000, "eng/ml");
    uint64_t ports[17][2];
    for (unsigned i = 0; i < 17; i++) {
        ports[i][0] = 31000 + 60 * i;
        ports[i][1] = 31000 + 60 * i + 49;
    }
    mc_wire_begin(w, num);
    mc_wire_put_str(w, MC_RESOURCE_NAME, "ports");
    mc_wire_put_ranges(w, MC_RESOURCE_RANGES, ports, 17);
    mc_wire_end(w);
    for (unsigned i = 1; i < size; i++)
        mc_wire_put_scalar(w, num, "gpus", 1000 * i, "*");
}

static void attributes(mc_wire_writer_t *w, unsigned num, unsigned size)
{
    if (!size)
        return;
    mc_wire_begin(w, num);
    mc_wire_put_str(w, MC_ATTRIBUTE_NAME, "rack");
    mc_wire_put_str(w, MC_ATTRIBUTE_TEXT, "r17-\xc3\xa9st"); /* UTF-8 */
    mc_wire_end(w);
    mc_wire_begin(w, num);
    mc_wire_put_str(w, MC_ATTRIBUTE_NAME, "generation");
    mc_wire_put_u64(w, MC_ATTRIBUTE_SCALAR, 3000);
    mc_wire_end(w);
}

static void numa(mc_wire_writer_t *w, unsigned num, unsigned size)
{
    for (unsigned n = 0; n < (size ? 2u : 0u); n++) {
        uint64_t cpus[2][2] = {{n * 12, n * 12 + 5}, {24 + n * 12, 24 + n * 12 + 5}};
        mc_wire_begin(w, num);
        mc_wire_put_u64(w, MC_NUMA_NODE_ID, n);
        mc_wire_put_ranges(w, MC_NUMA_NODE_CPUS, cpus, 2);
        mc_wire_put_u64(w, MC_NUMA_NODE_MEMORY_MB, 65536);
        mc_wire_put_u64(w, MC_NUMA_NODE_DISTANCE, n == 0 ? 10 : 21);
        mc_wire_put_u64(w, MC_NUMA_NODE_DISTANCE, n == 0 ? 21 : 10);
        mc_wire_end(w);
    }
}

static void task(mc_wire_writer_t *w, unsigned num, unsigned i, unsigned size)
{
    char id[32];
    snprintf(id, sizeof id, "task-%u", i);
    mc_wire_begin(w, num);
    mc_wire_put_str(w, MC_TASK_TASK_ID, id);
    mc_wire_put_str(w, MC_TASK_AGENT_ID, "agent-0007");
    mc_wire_put_scalar(w, MC_TASK_RESOURCES, "cpus", 1500, NULL);
    if (size) {
        mc_wire_put_str(w, MC_TASK_NAME, "web server");
        mc_wire_put_scalar(w, MC_TASK_RESOURCES, "mem", 512000, NULL);
        mc_wire_put_str(w, MC_TASK_COMMAND, "exec ./serve --port $PORT0");
        mc_wire_begin(w, MC_TASK_ENV);
        mc_wire_put_str(w, MC_ENV_NAME, "PORT0");
        mc_wire_put_str(w, MC_ENV_VALUE, "31000");
        mc_wire_end(w);
        mc_wire_put_u64(w, MC_TASK_NUMA, MC_NUMA_PACK);
    }
    mc_wire_end(w);
}

static void status(mc_wire_writer_t *w, unsigned num, unsigned size)
{
    mc_wire_begin(w, num);
    mc_wire_put_str(w, MC_STATUS_TASK_ID, "task-1");
    mc_wire_put_str(w, MC_STATUS_FRAMEWORK_ID, "fw-42");
    mc_wire_put_u64(w, MC_STATUS_STATE, MC_TASK_RUNNING);
    if (size) {
        mc_wire_put_str(w, MC_STATUS_AGENT_ID, "agent-0007");
        mc_wire_put_u64(w, MC_STATUS_REASON, 7);
        mc_wire_put_str(w, MC_STATUS_MESSAGE, "container started");
        mc_wire_put_bytes(w, MC_STATUS_UUID, uuid, sizeof uuid);
        mc_wire_put_u64(w, MC_STATUS_TIME_NS, UINT64_C(1795000000123456789));
        mc_wire_put_u64(w, MC_STATUS_HEALTHY, 1);
    }
    mc_wire_end(w);
}

static void offer(mc_wire_writer_t *w, unsigned num, unsigned i, unsigned size)
{
    char id[32], agent[32], host[48];
    snprintf(id, sizeof id, "offer-%u", 1000 + i);
    snprintf(agent, sizeof agent, "agent-%04u", i);
    snprintf(host, sizeof host, "node%u.dc1.example.org", i);
    mc_wire_begin(w, num);
    mc_wire_put_str(w, MC_OFFER_OFFER_ID, id);
    mc_wire_put_str(w, MC_OFFER_AGENT_ID, agent);
    mc_wire_put_str(w, MC_OFFER_HOSTNAME, host);
    resources(w, MC_OFFER_RESOURCES, size ? 1 : 0);
    attributes(w, MC_OFFER_ATTRIBUTES, size ? 1 : 0);
    mc_wire_end(w);
}

static void ids(mc_wire_writer_t *w, unsigned num, const char *prefix, unsigned n)
{
    char id[32];
    for (unsigned i = 0; i < n; i++) {
        snprintf(id, sizeof id, "%s-%u", prefix, i);
        mc_wire_put_str(w, num, id);
    }
}

int mc_sample_frame(mc_wire_writer_t *w, uint16_t type, unsigned size, uint64_t session)
{
    mc_wire_begin_frame(w, type, 0, session);
    switch (type) {
    case MC_MSG_HELLO:
        mc_wire_put_u64(w, MC_HELLO_PEER, MC_PEER_AGENT);
        if (size) {
            mc_wire_put_str(w, MC_HELLO_NAME, "relay-3");
            mc_wire_put_u64(w, MC_HELLO_MAX_FRAME, 4u << 20);
        }
        break;
    case MC_MSG_ERROR:
        mc_wire_put_u64(w, MC_ERROR_CODE, 19);
        if (size) {
            mc_wire_put_str(w, MC_ERROR_MESSAGE, "malformed field");
            mc_wire_put_u64(w, MC_ERROR_TYPE, MC_MSG_ACCEPT);
        }
        break;
    case MC_MSG_PING:
    case MC_MSG_PONG:
        mc_wire_put_u64(w, MC_PING_SEQ, 1000 + size);
        if (size)
            mc_wire_put_u64(w, MC_PING_TIME_NS, UINT64_C(1795000000000000000));
        break;
    case MC_MSG_AGENT_REGISTER:
    case MC_MSG_AGENT_REREGISTER:
        /* the first six fields are the same in both */
        mc_wire_put_str(w, MC_AGENT_REGISTER_HOSTNAME, "node7.dc1.example.org");
        if (size)
            mc_wire_put_u64(w, MC_AGENT_REGISTER_PORT, 5051);
        resources(w, MC_AGENT_REGISTER_RESOURCES, size);
        attributes(w, MC_AGENT_REGISTER_ATTRIBUTES, size);
        numa(w, MC_AGENT_REGISTER_NUMA, size);
        if (size)
            mc_wire_put_str(w, MC_AGENT_REGISTER_VERSION, "0.1.0");
        if (type == MC_MSG_AGENT_REREGISTER) {
            mc_wire_put_str(w, MC_AGENT_REREGISTER_AGENT_ID, "agent-0007");
            for (unsigned i = 0; i < size; i++) {
                char id[32];
                snprintf(id, sizeof id, "task-%u", i);
                mc_wire_begin(w, MC_AGENT_REREGISTER_TASKS);
                mc_wire_put_str(w, MC_RUNNING_TASK_ID, id);
                mc_wire_put_str(w, MC_RUNNING_FRAMEWORK_ID, "fw-42");
                mc_wire_put_u64(w, MC_RUNNING_STATE, MC_TASK_RUNNING);
                mc_wire_put_scalar(w, MC_RUNNING_RESOURCES, "cpus", 2000, NULL);
                mc_wire_end(w);
            }
        }
        break;
    case MC_MSG_AGENT_REGISTERED:
        mc_wire_put_str(w, MC_AGENT_REGISTERED_AGENT_ID, "agent-0007");
        if (size)
            mc_wire_put_u64(w, MC_AGENT_REGISTERED_HEARTBEAT_MS, 15000);
        break;
    case MC_MSG_AGENT_UPDATE:
        resources(w, MC_AGENT_UPDATE_RESOURCES, size);
        break;
    case MC_MSG_AGENT_STATUS:
        status(w, MC_AGENT_STATUS_STATUS, size);
        break;
    case MC_MSG_AGENT_ACK:
        mc_wire_put_str(w, MC_AGENT_ACK_FRAMEWORK_ID, "fw-42");
        mc_wire_put_str(w, MC_AGENT_ACK_TASK_ID, "task-1");
        mc_wire_put_bytes(w, MC_AGENT_ACK_UUID, uuid, sizeof uuid);
        break;
    case MC_MSG_AGENT_LAUNCH:
        mc_wire_put_str(w, MC_AGENT_LAUNCH_FRAMEWORK_ID, "fw-42");
        for (unsigned i = 0; i < (size ? size : 1); i++)
            task(w, MC_AGENT_LAUNCH_TASKS, i, size);
        break;
    case MC_MSG_AGENT_KILL:
        mc_wire_put_str(w, MC_AGENT_KILL_FRAMEWORK_ID, "fw-42");
        mc_wire_put_str(w, MC_AGENT_KILL_TASK_ID, "task-1");
        if (size)
            mc_wire_put_u64(w, MC_AGENT_KILL_GRACE_MS, 3000);
        break;
    case MC_MSG_AGENT_SHUTDOWN:
        if (size)
            mc_wire_put_str(w, MC_AGENT_SHUTDOWN_REASON, "removed by operator");
        break;
    case MC_MSG_SUBSCRIBE:
        mc_wire_put_str(w, MC_SUBSCRIBE_NAME, "spark");
        mc_wire_put_str(w, MC_SUBSCRIBE_ROLES, "eng/ml");
        if (size) {
            mc_wire_put_str(w, MC_SUBSCRIBE_ROLES, "*");
            mc_wire_put_str(w, MC_SUBSCRIBE_USER, "alice");
            mc_wire_put_str(w, MC_SUBSCRIBE_FRAMEWORK_ID, "fw-42");
            mc_wire_put_u64(w, MC_SUBSCRIBE_FAILOVER_MS, 604800000);
            mc_wire_put_u64(w, MC_SUBSCRIBE_CAPABILITIES, 0x5);
            mc_wire_put_str(w, MC_SUBSCRIBE_PRINCIPAL, "spark-prod");
        }
        break;
    case MC_MSG_SUBSCRIBED:
        mc_wire_put_str(w, MC_SUBSCRIBED_FRAMEWORK_ID, "fw-42");
        if (size)
            mc_wire_put_u64(w, MC_SUBSCRIBED_HEARTBEAT_MS, 15000);
        break;
    case MC_MSG_OFFERS:
        for (unsigned i = 0; i < (size ? size : 1); i++)
            offer(w, MC_OFFERS_OFFERS, i, size);
        break;
    case MC_MSG_ACCEPT:
        ids(w, MC_ACCEPT_OFFER_IDS, "offer", size ? size : 1);
        for (unsigned i = 0; i < size; i++)
            task(w, MC_ACCEPT_TASKS, i, size);
        if (size)
            mc_wire_put_u64(w, MC_ACCEPT_REFUSE_MS, 5000);
        break;
    case MC_MSG_DECLINE:
        ids(w, MC_DECLINE_OFFER_IDS, "offer", size ? size : 1);
        if (size)
            mc_wire_put_u64(w, MC_DECLINE_REFUSE_MS, 31536000000ull);
        break;
    case MC_MSG_SUPPRESS:
    case MC_MSG_REVIVE:
        if (size)
            mc_wire_put_str(w, MC_SUPPRESS_ROLES, "eng/ml");
        break;
    case MC_MSG_KILL:
        mc_wire_put_str(w, MC_KILL_TASK_ID, "task-1");
        if (size)
            mc_wire_put_str(w, MC_KILL_AGENT_ID, "agent-0007");
        break;
    case MC_MSG_ACKNOWLEDGE:
        mc_wire_put_str(w, MC_ACKNOWLEDGE_AGENT_ID, "agent-0007");
        mc_wire_put_str(w, MC_ACKNOWLEDGE_TASK_ID, "task-1");
        mc_wire_put_bytes(w, MC_ACKNOWLEDGE_UUID, uuid, sizeof uuid);
        break;
    case MC_MSG_RECONCILE:
        for (unsigned i = 0; i < size; i++) {
            char id[32];
            snprintf(id, sizeof id, "task-%u", i);
            mc_wire_begin(w, MC_RECONCILE_TASKS);
            mc_wire_put_str(w, MC_TASKREF_TASK_ID, id);
            if (i % 2)
                mc_wire_put_str(w, MC_TASKREF_AGENT_ID, "agent-0007");
            mc_wire_end(w);
        }
        break;
    case MC_MSG_TEARDOWN:
        break;
    case MC_MSG_RESCIND:
        mc_wire_put_str(w, MC_RESCIND_OFFER_ID, "offer-1000");
        break;
    case MC_MSG_UPDATE:
        status(w, MC_UPDATE_STATUS, size);
        break;
    default:
        mc_wire_put_u64(w, 1, 0);
        break;
    }
    return mc_wire_end_frame(w);
}
