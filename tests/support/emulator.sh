# Sourced by the shell test scripts (tests/install/run.sh, tests/compat/run.sh):
# starts the emulator program the way a user's shell would and takes on the
# environment it prints.
#
#   start_emulator OUT [OPTION...]
#
# Builds the program, starts it in the background with the given options (output
# in the file OUT), sets emu_pid (the caller's cleanup kills it), waits for the
# `export` line that says it listens, then evaluates its NAME=value lines, so
# PINECONE_CONTROLLER_HOST and PINECONE_API_KEY point at it. Exits 1 if it stops
# or prints nothing within 10 s. Expects $root (the repository) to be set.
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
