# Sourced by the benchmarks that grade under load: CPU-bound busy loops of the script's own,
# stopped by pid when it ends (however it ends), and its scratch directory removed (KEEP=1 keeps
# it). Defines `busy_start N` and installs the EXIT and INT/TERM traps; expects $work.
busy=()
busy_start() {
  local _
  for _ in $(seq 1 "$1"); do
    bash -c 'while :; do :; done' &
    busy+=("$!")
  done
}
busy_cleanup() {
  for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${busy[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "kept in $work"; else rm -rf "$work"; fi
}
trap busy_cleanup EXIT
trap 'exit 130' INT TERM
