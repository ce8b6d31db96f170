// Package bench holds the benchmark suite behind `make bench` (TestBenchScenarios): seven
// scenarios on the real Docker engine and rscale serve, each against its target in a
// Markdown report. BENCH_QUICK=1 (`make e2e`) runs every scenario small; without it or
// BENCH_REPORT the suite skips.
package bench
