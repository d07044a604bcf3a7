# Sourced by the shell test scripts (tests/install/run.sh, tests/compat/run.sh)
# right after they set $root (the repository) and enter it. Sourcing makes a
# scratch directory, $tmp, and sets a trap that on exit stops the emulator
# program (when start_emulator started one) and removes $tmp.
#
#   start_emulator OUT [OPTION...]
#
# Builds the emulator program, starts it in the background with the given options
# (output in the file OUT), sets emu_pid, waits for the `export` line that says it
# listens, then evaluates its NAME=value lines, so PINECONE_CONTROLLER_HOST and
# PINECONE_API_KEY point at it. Exits 1 if it stops or prints nothing within 10 s.
tmp=$(mktemp -d)
emu_pid=""
cleanup() {
  if [ -n "$emu_pid" ]; then kill "$emu_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

start_emulator() {
  local out=$1
  shift
  cargo build --quiet --example emulator --features emulator
  "$root/target/debug/examples/emulator" "$@" >"$out" &
  emu_pid=$!
  for _ in $(seq 1 100); do
    grep -q '^export ' "$out" && break
    kill -0 "$emu_pid" 2>/dev/null || { echo "the emulator exited early" >&2; exit 1; }
    sleep 0.1
  done
  grep -q '^export ' "$out" || { echo "the emulator printed no environment" >&2; exit 1; }
  eval "$(cat "$out")"
  echo "emulator at $PINECONE_CONTROLLER_HOST"
}
