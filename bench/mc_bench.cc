// bench/mc_bench.cc: the offers-per-second suite (google-benchmark). A thin
// C++ harness over the engine's C API: every case builds its cluster with
// bench/world.c outside the timed region and times allocation cycles from
// their start until every offer is published (mc_cycle_stats.duration_ns),
// in-process, with no network, as Mesos's allocator benchmarks do.
//
// Counters of every case (so --benchmark_format=json carries every figure):
//   ns_per_offer       cycle time / offers made (for a cycle that offers
//                      nothing: / agents visited)
//   offers_per_second  offers made / cycle time
//   cycle_p50_ms, cycle_p99_ms   over the timed cycles
//   cycle_first_ms     the first timed cycle (for rounds >= F: the one that
//                      checks every filter; later ones skip blocked agents)
//   fairness_error     largest error of a shard's share estimate (engine.md), shards > 1
//
// Tiers: --mc_tier=smoke (a few seconds, run by .ci/run: small sizes, the
// invariants asserted) or --mc_tier=full (the grid, run by hand: bench/run).
#include <benchmark/benchmark.h>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench/wire_bench.h"
#include "bench/world.h"

namespace
{

struct Cycles {
    std::vector<double> ns;
    uint64_t offers = 0, agents = 0;
    double fairness = 0;

    void add(const mc_cycle_stats &st)
    {
        ns.push_back(double(st.duration_ns));
        offers += st.offers;
        agents += st.agents;
        fairness = std::max(fairness, st.fairness_error);
    }

    void report(benchmark::State &state, unsigned shards)
    {
        std::vector<double> v = ns;
        std::sort(v.begin(), v.end());
        double total = 0;
        for (double x : v)
            total += x;
        auto pct = [&](double p) { return v.empty() ? 0 : v[size_t(p * double(v.size() - 1))]; };
        state.counters["ns_per_offer"] =
            total / double(offers ? offers : std::max<uint64_t>(agents, 1));
        state.counters["offers_per_second"] = total > 0 ? double(offers) * 1e9 / total : 0;
        state.counters["cycle_p50_ms"] = pct(0.5) / 1e6;
        state.counters["cycle_first_ms"] = ns.empty() ? 0 : ns.front() / 1e6;
        state.counters["cycle_p99_ms"] = pct(0.99) / 1e6;
        state.counters["offers_per_cycle"] = v.empty() ? 0 : double(offers) / double(v.size());
        if (shards > 1)
            state.counters["fairness_error"] = fairness;
    }
};

// DeclineOffers (Mesos HierarchicalAllocator_BENCHMARK_Test.DeclineOffers):
// round 0 offers every agent; then every framework declines everything with a
// long filter, so round r skips r filtered frameworks per agent and rounds
// >= F offer nothing: the N x F filter-check worst case. The invariant
// (N offers in rounds < F, none from round F on) is asserted.
void DeclineOffers(benchmark::State &state, unsigned agents, unsigned fws, unsigned round,
                   unsigned shards)
{
    mcb_world *w = mcb_decline_world(agents, fws, shards);
    if (!w) {
        state.SkipWithError("setup failed");
        return;
    }
    mc_cycle_stats st;
    for (unsigned r = 0; r < round; r++) { // reach the round: declines with a day-long filter
        mcb_cycle(w, &st);
        mcb_decline_all(w, 86400);
    }
    uint64_t want = round < fws ? agents : 0;
    Cycles c;
    for (auto _ : state) {
        mcb_cycle(w, &st);
        state.SetIterationTime(double(st.duration_ns) / 1e9);
        c.add(st);
        if (st.offers != want) {
            state.SkipWithError("invariant broken: wrong number of offers for the round");
            break;
        }
        state.PauseTiming();
        mcb_decline_all(w, 0); // back to the same round: no new filter
        state.ResumeTiming();
    }
    c.report(state, shards);
    mcb_free(w);
}

// Quota (Mesos LargeAndSmallQuota): "allocate" is a cycle on the fresh
// cluster that satisfies guarantees in stage 1 and gives out the rest in
// stage 2; "nothing" is the same cluster with frameworks whose minimum offer no
// agent can meet: the cycle visits every agent, role and framework through
// both stages and allocates nothing (asserted).
void Quota(benchmark::State &state, unsigned agents, unsigned roles, bool nothing, unsigned shards)
{
    mcb_world *w = mcb_quota_world(agents, roles, shards, nothing);
    if (!w) {
        state.SkipWithError("setup failed");
        return;
    }
    mc_cycle_stats st;
    Cycles c;
    for (auto _ : state) {
        mcb_cycle(w, &st);
        state.SetIterationTime(double(st.duration_ns) / 1e9);
        c.add(st);
        if (nothing && st.offers) {
            state.SkipWithError("invariant broken: a cycle made offers no framework accepts");
            break;
        }
        state.PauseTiming();
        mcb_decline_all(w, 0);
        state.ResumeTiming();
    }
    c.report(state, shards);
    mcb_free(w);
}

// Sustained churn: frameworks launch a task in each offer that fits and
// decline the rest; tasks end after 1-20 s of virtual time; one cycle per
// virtual second. Steady state after a warm-up; decisions per second over
// the timed cycles.
void Churn(benchmark::State &state, unsigned agents, unsigned fws, unsigned shards)
{
    mcb_world *w = mcb_churn_world(agents, fws, shards);
    if (!w) {
        state.SkipWithError("setup failed");
        return;
    }
    mc_cycle_stats st;
    for (int i = 0; i < 30; i++) { // warm-up: fill the cluster, let tasks start ending
        mcb_cycle(w, &st);
        mcb_churn_step(w, MC_NS_PER_SEC);
    }
    Cycles c;
    uint64_t launched = 0;
    for (auto _ : state) {
        mcb_cycle(w, &st);
        state.SetIterationTime(double(st.duration_ns) / 1e9);
        c.add(st);
        state.PauseTiming();
        launched += mcb_churn_step(w, MC_NS_PER_SEC);
        state.ResumeTiming();
    }
    c.report(state, shards);
    state.counters["tasks_launched"] = double(launched);
    mcb_free(w);
}

// Memory held by the engine per agent, per framework and per outstanding
// offer, counted two ways: heap bytes (jemalloc stats.allocated) and the
// growth of the resident set (/proc/self/statm) after the allocator returned
// its unused pages. A cluster of agents alone is built first, then the same
// agents with frameworks beside it (both alive, so the second one's pages are
// new), then one round of offers.
void Memory(benchmark::State &state, unsigned agents, unsigned fws, unsigned shards)
{
    for (auto _ : state) {
        mcb_free(mcb_decline_world(16, 4, shards)); // one-time initialisation is not counted
        mcb_heap_purge();
        uint64_t h0 = mcb_heap_bytes(), r0 = mcb_rss_bytes();
        mcb_world *bare = mcb_decline_world(agents, 0, shards);
        uint64_t h1 = mcb_heap_bytes(), r1 = mcb_rss_bytes();
        mcb_world *w = mcb_decline_world(agents, fws, shards);
        uint64_t h2 = mcb_heap_bytes(), r2 = mcb_rss_bytes();
        mc_cycle_stats st = {};
        if (bare && w)
            mcb_cycle(w, &st); // every framework now holds offers
        uint64_t h3 = mcb_heap_bytes(), r3 = mcb_rss_bytes();
        mcb_free(w);
        mcb_free(bare);
        if (!bare || !w || !st.offers) {
            state.SkipWithError("setup failed");
            break;
        }
        auto delta = [](uint64_t a, uint64_t b) { return double(b) - double(a); };
        state.counters["bytes_per_agent"] = delta(h0, h1) / agents;
        state.counters["bytes_per_framework"] = (delta(h1, h2) - delta(h0, h1)) / fws;
        state.counters["bytes_per_offer"] = delta(h2, h3) / double(st.offers);
        state.counters["rss_per_agent"] = delta(r0, r1) / agents;
        state.counters["rss_per_framework"] = (delta(r1, r2) - delta(r0, r1)) / fws;
        state.counters["rss_per_offer"] = delta(r2, r3) / double(st.offers);
        state.SetIterationTime(1e-9);
    }
}

template <class F, class... A> void add(const std::string &name, int iters, F f, A... args)
{
    benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State &s) { f(s, args...); })
        ->UseManualTime()
        ->Iterations(iters)
        ->Unit(benchmark::kMillisecond);
}

std::string key(const char *k, unsigned v)
{
    return std::string("/") + k + ":" + std::to_string(v);
}

void register_tier(const std::string &tier)
{
    bool full = tier == "full";
    std::vector<unsigned> agents =
        full ? std::vector<unsigned>{1000, 10000, 20000, 50000} : std::vector<unsigned>{1000};
    std::vector<unsigned> fws =
        full ? std::vector<unsigned>{1, 100, 1000, 3000} : std::vector<unsigned>{1, 100};
    std::vector<unsigned> shards =
        full ? std::vector<unsigned>{1, 2, 4, 8} : std::vector<unsigned>{1, 2};
    for (unsigned s : shards)
        for (unsigned n : agents)
            for (unsigned f : fws) {
                std::vector<unsigned> rounds = {0};
                // rounds past 0 cost F setup cycles: the full tier takes them
                // where N x F stays within 10 million filters
                if (f > 1 && uint64_t(n) * f <= 10000000ull)
                    rounds.push_back(f / 2);
                if (uint64_t(n) * f <= 10000000ull)
                    rounds.push_back(f);
                for (unsigned r : rounds)
                    add("DeclineOffers" + key("agents", n) + key("frameworks", f) +
                            key("round", r) + key("shards", s),
                        full ? 20 : 5, DeclineOffers, n, f, r, s);
            }
    if (full) // the size of Mesos 1.8's published figure (3.8 s)
        for (unsigned s : shards)
            add("DeclineOffers" + key("agents", 20000) + key("frameworks", 2000) + key("round", 0) +
                    key("shards", s),
                20, DeclineOffers, 20000u, 2000u, 0u, s);
    for (unsigned s : shards) {
        unsigned n = full ? 3000 : 300;
        for (bool nothing : {false, true})
            add("Quota" + key("agents", n) + key("roles", n) +
                    "/cycle:" + (nothing ? "nothing" : "allocate") + key("shards", s),
                full ? 10 : 3, Quota, n, n, nothing, s);
        unsigned cn = full ? 10000 : 1000, cf = full ? 1000 : 100;
        add("Churn" + key("agents", cn) + key("frameworks", cf) + key("shards", s), full ? 100 : 10,
            Churn, cn, cf, s);
    }
    add("Memory" + key("agents", full ? 10000 : 1000) + key("frameworks", full ? 1000 : 100) +
            key("shards", 1),
        1, Memory, full ? 10000u : 1000u, full ? 1000u : 100u, 1u);
    mc_register_wire_benchmarks(full);
}

// The time of a load on each CPU the process may run on, over an 8 MiB
// working set (more than a core's own caches, less than a server's
// last-level cache; the churn case touches more): a thread pinned to the CPU
// follows one random cycle through it, each load's address the value of the
// one before, once to bring it into the CPU's caches and once timed. On a
// machine of its own a CPU serves this from its last-level cache; on a
// shared one a CPU may not (bench/README.md, "The second vCPU": one vCPU
// of this project's machine took 21 to 24 ns and the other 34 to 102 over a
// few minutes). Each tier records each CPU's figure in the JSON context
// (mem_latency_ns_cpuN) before it runs, and bench/run prints them.
void probe_memory_latency()
{
    const uint32_t n = 1u << 21;
    std::vector<uint32_t> next(n);
    for (uint32_t i = 0; i < n; i++)
        next[i] = i;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (uint32_t i = n - 1; i > 0; i--) { // Sattolo: one cycle through every slot
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        std::swap(next[i], next[x % i]);
    }
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof(allowed), &allowed))
        return;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &allowed))
            continue;
        double ns = 0;
        std::thread t([&] {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one))
                return;
            uint32_t p = 0;
            for (uint32_t i = 0; i < n; i++)
                p = next[p];
            auto t0 = std::chrono::steady_clock::now();
            for (uint32_t i = 0; i < n; i++)
                p = next[p];
            std::chrono::duration<double, std::nano> d = std::chrono::steady_clock::now() - t0;
            benchmark::DoNotOptimize(p);
            ns = d.count() / n;
        });
        t.join();
        char v[32];
        std::snprintf(v, sizeof(v), "%.1f", ns);
        if (ns > 0)
            benchmark::AddCustomContext("mem_latency_ns_cpu" + std::to_string(cpu), v);
    }
}

} // namespace

int main(int argc, char **argv)
{
    std::string tier = "smoke";
    std::vector<char *> args;
    for (int i = 0; i < argc; i++) {
        if (std::strncmp(argv[i], "--mc_tier=", 10) == 0)
            tier = argv[i] + 10;
        else
            args.push_back(argv[i]);
    }
    if (tier != "smoke" && tier != "full") {
        std::fprintf(stderr, "mc_bench: --mc_tier=smoke|full\n");
        return 2;
    }
    int n = int(args.size());
    benchmark::Initialize(&n, args.data());
    probe_memory_latency();
    register_tier(tier);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
