# NTKit — the two set-up commands of the README:
#   make demo   installs what is missing, builds, runs the main job on bundled data
#   make test   installs what is missing, builds, runs the whole test suite
# PoCL keeps its kernel cache inside the project (an unwritable cache breaks it).
export POCL_CACHE_DIR ?= $(CURDIR)/.pocl-cache

.PHONY: demo test test-python deps build release bench clean fuzz

deps:
	@scripts/install-deps.sh
	@mkdir -p $(POCL_CACHE_DIR)

build: deps
	swift build --product ntk
	swift build --product ntk-mpi

# A static Swift runtime starts faster (and the same binary runs where no
# Swift toolchain is installed).
release: deps
	swift build -c release --product ntk --static-swift-stdlib

demo: release
	.build/release/ntk demo

test: deps
	swift build --build-tests
	swift test --skip-build
	scripts/consumer-check.sh
	scripts/fuzz.sh --seconds 3
	$(MAKE) --no-print-directory test-python

# The Python package (python/ntkit) against the debug libntkit_c, in .venv-py/
# (created once from python/requirements-test.txt by scripts/python-venv.sh).
test-python: deps
	swift build --product ntk
	swift build --product ntkit_c
	NTKIT_LIBRARY=$(CURDIR)/.build/debug/libntkit_c.so NTK_BINARY=$(CURDIR)/.build/debug/ntk \
	  "$$(scripts/python-venv.sh)" -m pytest python/tests -q -p no:cacheprovider

# libFuzzer over the npy, safetensors, spec and CSV parsers, 10⁶ executions each.
fuzz: deps
	scripts/fuzz.sh

bench: release
	.build/release/ntk bench

clean:
	rm -rf .build .build-fuzz .build-fuzz.log .pocl-cache
