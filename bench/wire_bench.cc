// bench/wire_bench.cc: throughput of the wire codec (net/wire.h) for the
// messages the master handles most: a heartbeat (PING), a task status update
// (AGENT_STATUS), and an offer batch (OFFERS, 100 offers, each an agent of the
// DeclineOffers benchmark: cpus, mem, disk, 17 port ranges, two attributes).
// No Mesos figure to mirror: Mesos decodes protobuf over HTTP; the issue's
// aim is a decoder in the low tens of nanoseconds per small message.
//
//   Wire/decode/msg:M   mc_wire_decode of one frame (validates every field)
//   Wire/encode/msg:M   writing the same frame with the encoder
//   Wire/stream/...     the reassembler over a stream of mixed frames, read
//                       64 KiB at a time, every frame decoded
// Counters: ns_per_msg, msgs_per_second, bytes_per_second, frame_bytes.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/wire_bench.h"
#include "engine/status.h"
#include "net/wire.h"

namespace
{

const mc_wire_limits_t lim = MC_WIRE_LIMITS_DEFAULT;
const uint8_t uuid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

struct OfferIds {
    std::vector<std::string> offer, agent, host;
    explicit OfferIds(unsigned n)
    {
        for (unsigned i = 0; i < n; i++) {
            offer.push_back("offer-" + std::to_string(100000 + i));
            agent.push_back("agent-" + std::to_string(i));
            host.push_back("node" + std::to_string(i) + ".dc1.example.org");
        }
    }
};

int encode(mc_wire_writer_t *w, const std::string &msg, const OfferIds &ids)
{
    if (msg == "ping") {
        mc_wire_begin_frame(w, MC_MSG_PING, 0, 42);
        mc_wire_put_u64(w, MC_PING_SEQ, 123456);
        mc_wire_put_u64(w, MC_PING_TIME_NS, 1795000000123456789ull);
    } else if (msg == "status") {
        mc_wire_begin_frame(w, MC_MSG_AGENT_STATUS, 0, 42);
        mc_wire_begin(w, MC_AGENT_STATUS_STATUS);
        mc_wire_put_str(w, MC_STATUS_TASK_ID, "task-000123");
        mc_wire_put_str(w, MC_STATUS_FRAMEWORK_ID, "fw-42");
        mc_wire_put_str(w, MC_STATUS_AGENT_ID, "agent-0007");
        mc_wire_put_u64(w, MC_STATUS_STATE, MC_TASK_RUNNING);
        mc_wire_put_bytes(w, MC_STATUS_UUID, uuid, sizeof uuid);
        mc_wire_put_u64(w, MC_STATUS_TIME_NS, 1795000000123456789ull);
        mc_wire_end(w);
    } else {
        static uint64_t ports[17][2];
        for (unsigned i = 0; i < 17; i++) {
            ports[i][0] = 31000 + 60 * i;
            ports[i][1] = 31049 + 60 * i;
        }
        mc_wire_begin_frame(w, MC_MSG_OFFERS, 0, 42);
        for (size_t i = 0; i < ids.offer.size(); i++) {
            mc_wire_begin(w, MC_OFFERS_OFFERS);
            mc_wire_put_str(w, MC_OFFER_OFFER_ID, ids.offer[i].c_str());
            mc_wire_put_str(w, MC_OFFER_AGENT_ID, ids.agent[i].c_str());
            mc_wire_put_str(w, MC_OFFER_HOSTNAME, ids.host[i].c_str());
            mc_wire_put_scalar(w, MC_OFFER_RESOURCES, "cpus", 8000, nullptr);
            mc_wire_put_scalar(w, MC_OFFER_RESOURCES, "mem", 4096000, nullptr);
            mc_wire_put_scalar(w, MC_OFFER_RESOURCES, "disk", 4096000, nullptr);
            mc_wire_begin(w, MC_OFFER_RESOURCES);
            mc_wire_put_str(w, MC_RESOURCE_NAME, "ports");
            mc_wire_put_ranges(w, MC_RESOURCE_RANGES, ports, 17);
            mc_wire_end(w);
            mc_wire_begin(w, MC_OFFER_ATTRIBUTES);
            mc_wire_put_str(w, MC_ATTRIBUTE_NAME, "rack");
            mc_wire_put_str(w, MC_ATTRIBUTE_TEXT, "r17");
            mc_wire_end(w);
            mc_wire_begin(w, MC_OFFER_ATTRIBUTES);
            mc_wire_put_str(w, MC_ATTRIBUTE_NAME, "zone");
            mc_wire_put_str(w, MC_ATTRIBUTE_TEXT, "eu-west-1a");
            mc_wire_end(w);
            mc_wire_end(w);
        }
    }
    return mc_wire_end_frame(w);
}

void counters(benchmark::State &state, double msgs, double bytes, double frame)
{
    // inverted rate of msgs / 1e9: seconds * 1e9 / msgs, nanoseconds per message
    state.counters["ns_per_msg"] =
        benchmark::Counter(msgs * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["msgs_per_second"] = benchmark::Counter(msgs, benchmark::Counter::kIsRate);
    state.counters["bytes_per_second"] = benchmark::Counter(bytes, benchmark::Counter::kIsRate);
    state.counters["frame_bytes"] = frame;
}

void Decode(benchmark::State &state, std::string msg, unsigned offers)
{
    OfferIds ids(offers);
    std::vector<uint8_t> buf(4u << 20);
    mc_wire_writer_t w;
    mc_wire_writer_init(&w, buf.data(), buf.size());
    int n = encode(&w, msg, ids);
    if (n <= 0) {
        state.SkipWithError("encode failed");
        return;
    }
    for (auto _ : state) {
        mc_wire_msg_t m;
        int rc = mc_wire_decode(buf.data(), size_t(n), &lim, MC_TO_ANY, &m, nullptr);
        benchmark::DoNotOptimize(rc);
        benchmark::DoNotOptimize(m);
        if (rc != n) {
            state.SkipWithError(mc_err_name(rc));
            return;
        }
    }
    counters(state, double(state.iterations()), double(state.iterations()) * n, n);
}

void Encode(benchmark::State &state, std::string msg, unsigned offers)
{
    OfferIds ids(offers);
    std::vector<uint8_t> buf(4u << 20);
    int n = 0;
    for (auto _ : state) {
        mc_wire_writer_t w;
        mc_wire_writer_init(&w, buf.data(), buf.size());
        n = encode(&w, msg, ids);
        benchmark::DoNotOptimize(buf.data());
        if (n <= 0) {
            state.SkipWithError(mc_err_name(n));
            return;
        }
    }
    counters(state, double(state.iterations()), double(state.iterations()) * n, n);
}

// 1,000 frames: heartbeats, status updates and 10-offer batches in turn
void Stream(benchmark::State &state)
{
    OfferIds ids(10);
    std::vector<uint8_t> data(8u << 20);
    mc_wire_writer_t w;
    mc_wire_writer_init(&w, data.data(), data.size());
    const char *kinds[] = {"ping", "status", "offers"};
    for (unsigned i = 0; i < 1000; i++)
        if (encode(&w, kinds[i % 3], ids) <= 0) {
            state.SkipWithError("encode failed");
            return;
        }
    size_t total = w.len;
    uint64_t frames = 0;
    for (auto _ : state) {
        mc_wire_stream_t s;
        if (mc_wire_stream_init(&s, &lim, MC_TO_ANY) != MC_OK) {
            state.SkipWithError("stream init failed");
            return;
        }
        size_t off = 0;
        while (off < total) {
            uint8_t *p;
            size_t room = mc_wire_stream_space(&s, &p);
            size_t k = std::min(std::min(room, total - off), size_t(65536));
            std::memcpy(p, data.data() + off, k); // stands in for recv()
            mc_wire_stream_commit(&s, k);
            off += k;
            mc_wire_msg_t m;
            while (mc_wire_stream_next(&s, &m, nullptr) == 1)
                frames++;
        }
        mc_wire_stream_fini(&s);
    }
    if (frames != 1000 * uint64_t(state.iterations())) {
        state.SkipWithError("lost frames");
        return;
    }
    counters(state, double(frames), double(total) * double(state.iterations()),
             double(total) / 1000);
}

} // namespace

void mc_register_wire_benchmarks(bool full)
{
    double min_time = full ? 1.0 : 0.05;
    struct {
        const char *name;
        unsigned offers;
    } msgs[] = {{"ping", 0}, {"status", 0}, {"offers", 100}};
    for (auto &m : msgs) {
        std::string suffix =
            std::string("/msg:") + m.name + (m.offers ? "/offers:" + std::to_string(m.offers) : "");
        benchmark::RegisterBenchmark(("Wire/decode" + suffix).c_str(), Decode, m.name, m.offers)
            ->MinTime(min_time);
        benchmark::RegisterBenchmark(("Wire/encode" + suffix).c_str(), Encode, m.name, m.offers)
            ->MinTime(min_time);
    }
    benchmark::RegisterBenchmark("Wire/stream/frames:1000/read:65536", Stream)->MinTime(min_time);
}
