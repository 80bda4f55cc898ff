# Sourced by scripts/quickstart, scripts/test and scripts/bench: installs what is missing and
# builds. Each step is skipped when already done, so a second run costs seconds.
#   1. Debian packages (compiler, CMake, the header-only C++ libraries, SQLite, GoogleTest)
#   2. .venv: a Python >= 3.12 virtual environment with the pinned frameworks from PyPI
#   3. build/: CMake + Ninja, Release-with-debug-info
# Environment: DLBENCH_BOOTSTRAP_PYTHON picks the Python that creates .venv;
#              DLBENCH_SKIP_APT=1 skips step 1 (a machine without root that already has the packages);
#              DLBENCH_SETUP_TESTS=1 (set by scripts/test) also installs what only the tests need:
#              Slurm and munge, for the one-node cluster of tests/e2e/test_slurm.py, and
#              .venv-serve, llama.cpp's server (llama-cpp-python) for the serving tests;
#              DLBENCH_SETUP_FUZZ=1 (set by scripts/fuzz) also installs clang 19 with libFuzzer and
#              .venv-fuzz (atheris, for the worker's protocol harness).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf 'dlbench setup: error: %s\n' "$*" >&2; exit 3; }

APT_PACKAGES=(
  build-essential cmake ninja-build git pkg-config
  libtomlplusplus-dev nlohmann-json3-dev libcli11-dev libfmt-dev libcurl4-openssl-dev
  libsqlite3-dev libboost-dev libboost-math-dev libgtest-dev
  util-linux bsdutils sqlite3
  gnuplot-nox chromium texlive-latex-base texlive-latex-recommended
)

# Only for the tests (9 packages, ~3.6 MB): the daemons are started by the test itself, never here;
# bubblewrap is the sandbox the container-environment test runs a worker in.
TEST_APT_PACKAGES=(slurmctld slurmd slurm-client munge bubblewrap)
if [[ "${DLBENCH_SETUP_TESTS:-0}" == 1 ]]; then APT_PACKAGES+=("${TEST_APT_PACKAGES[@]}"); fi
# Only for scripts/fuzz (122 MB): Debian 12's default clang 14 cannot compile <expected>.
FUZZ_APT_PACKAGES=(clang-19 libclang-rt-19-dev)
if [[ "${DLBENCH_SETUP_FUZZ:-0}" == 1 ]]; then APT_PACKAGES+=("${FUZZ_APT_PACKAGES[@]}"); fi

install_apt() {
  [[ "${DLBENCH_SKIP_APT:-0}" == 1 ]] && return
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return
  log "installing Debian packages: ${missing[*]}"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# jax 0.11 needs Python >= 3.12; Debian 12's own python3 is 3.11, so look further.
find_python() {
  local candidates=()
  [[ -n "${DLBENCH_BOOTSTRAP_PYTHON:-}" ]] && candidates+=("$DLBENCH_BOOTSTRAP_PYTHON")
  candidates+=(python3.12 python3.13 python3)
  local root="${PYENV_ROOT:-$HOME/.pyenv}"
  for d in "$root"/versions/3.12* "$root"/versions/3.13*; do
    [[ -x "$d/bin/python3" ]] && candidates+=("$d/bin/python3")
  done
  for c in "${candidates[@]}"; do
    local exe
    exe=$(command -v "$c" 2>/dev/null) || continue
    if "$exe" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$exe"
      return
    fi
  done
  die "no Python >= 3.12 found (jax 0.11.2 needs it); install one and set DLBENCH_BOOTSTRAP_PYTHON"
}

install_venv() {
  local req="workers/python/requirements.txt"
  local stamp=".venv/.dlbench-requirements"
  if [[ -x .venv/bin/python ]] && [[ -f "$stamp" ]] && cmp -s "$req" "$stamp"; then
    return
  fi
  local py
  py=$(find_python)
  log "creating .venv with $("$py" --version) and installing the pinned packages (torch pulls its CUDA libraries: a few GB)"
  local t0=$SECONDS
  [[ -x .venv/bin/python ]] || "$py" -m venv .venv
  .venv/bin/python -m pip install -q --progress-bar off --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q --progress-bar off -r "$req"
  cp "$req" "$stamp"
  log ".venv ready in $((SECONDS - t0)) s"
}

# side_venv DIR REQUIREMENTS WHAT: a virtual environment of its own, apart from .venv, for a
# component whose pins are its own; made again when its requirements file changes.
side_venv() {
  local dir=$1 req=$2 what=$3
  local stamp="$dir/.dlbench-requirements"
  if [[ -x "$dir/bin/python" ]] && [[ -f "$stamp" ]] && cmp -s "$req" "$stamp"; then
    return
  fi
  local py
  py=$(find_python)
  log "creating $dir ($what)"
  local t0=$SECONDS
  [[ -x "$dir/bin/python" ]] || "$py" -m venv "$dir"
  "$dir/bin/python" -m pip install -q --progress-bar off --upgrade pip >/dev/null
  CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) "$dir/bin/python" -m pip install -q --progress-bar off -r "$req"
  cp "$req" "$stamp"
  log "$dir ready in $((SECONDS - t0)) s"
}

# The serving tests' real server: llama.cpp's, compiled by pip.
install_serve_venv() {
  [[ "${DLBENCH_SETUP_TESTS:-0}" == 1 ]] || return 0
  side_venv .venv-serve workers/serve/requirements.txt "llama.cpp's server, compiled by pip: a few minutes"
}

# The fuzzer of the Python worker's request reader (scripts/fuzz): atheris, and nothing else.
install_fuzz_venv() {
  [[ "${DLBENCH_SETUP_FUZZ:-0}" == 1 ]] || return 0
  side_venv .venv-fuzz tests/fuzz/requirements.txt "atheris"
}

build() {
  if [[ ! -f build/build.ninja ]]; then
    log "configuring build/"
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDLBENCH_WERROR=ON >/dev/null
  fi
  log "building (ninja -C build)"
  ninja -C build --quiet
  [[ -x build/dlbench ]] || die "build failed"
}

install_apt
install_venv
install_serve_venv
install_fuzz_venv
build
