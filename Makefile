# Benchmarks (bench/README.md). Only loopback traffic; every run is bounded and stops by itself.
WRK_INSTALL = command -v wrk >/dev/null 2>&1 || (apt-get update && apt-get install -y wrk)

.PHONY: bench bench-quick

# Everything, in under 10 minutes on 2 cores; the report also lands in bench/results/<time>/
bench:
	@$(WRK_INSTALL)
	uv run --frozen python -m bench.run

# A smoke run of every part at a tenth of the scale, in about 2 minutes.
bench-quick:
	@$(WRK_INSTALL)
	BENCH_QUICK=1 uv run --frozen python -m bench.run
