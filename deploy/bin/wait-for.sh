#!/usr/bin/env bash
# Wait until a TCP port accepts connections: wait-for.sh HOST:PORT [SECONDS] (default 120).
# Used before a Ray worker joins its head (the head may still be booting) and in docs.
set -euo pipefail

target="${1:?usage: wait-for.sh HOST:PORT [SECONDS]}"
limit="${2:-120}"
host="${target%:*}"
port="${target##*:}"
[[ -n "$host" && "$port" =~ ^[0-9]+$ ]] || { echo "wait-for: expected HOST:PORT, got '$target'" >&2; exit 64; }

deadline=$((SECONDS + limit))
until (exec 3<>"/dev/tcp/${host}/${port}") 2>/dev/null; do
  if ((SECONDS >= deadline)); then
    echo "wait-for: ${target} did not accept connections within ${limit}s" >&2
    exit 1
  fi
  sleep 1
done
echo "wait-for: ${target} is up" >&2
