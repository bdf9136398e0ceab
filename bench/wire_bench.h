// bench/wire_bench.h: registers the wire codec benchmarks (wire_bench.cc).
#ifndef MC_BENCH_WIRE_BENCH_H
#define MC_BENCH_WIRE_BENCH_H

void mc_register_wire_benchmarks(bool full);

#endif
