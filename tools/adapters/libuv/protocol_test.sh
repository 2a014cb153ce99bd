#!/bin/sh
# The protocol layer of an adapter, without netconform (docs/ADAPTER.md):
# every reply echoes its request's id, bad requests are protocol errors that
# name the field, a line over 1 MiB is drained and refused and the next line
# served, a real port conflict is an os EADDRINUSE error with fds_delta 0,
# and the adapter exits 0 at end of input. Used for the libuv and Rust
# adapters (ctest Adapter.libuv.Protocol, Adapter.rust.Protocol).
#   protocol_test.sh ADAPTER
set -u
adapter=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
check() { # name, extended regex the reply line must match, line number
  if ! sed -n "$3p" "$dir/out" | grep -Eq -- "$2"; then
    echo "FAIL $1: reply $3 is: $(sed -n "$3p" "$dir/out" | cut -c1-300)"
    fail=1
  fi
}
{
  echo '{"op":"hello","id":1}'
  echo 'not json'
  echo '{"op":"bind_sockets","id":3,"port":"80"}'
  echo '{"op":"bind_sockets","id":4,"colour":1}'
  echo '{"op":"nope","id":5}'
  echo '{"id":6}'
  head -c 1100000 /dev/zero | tr '\0' 'x'
  echo
  printf '{"op":"open_fds","id":8}\r\n'
  echo '{"op":"bind_sockets","id":9,"port":0,"address":"127.0.0.1"}'
  echo '{"op":"serve","id":10,"listener":99}'
  echo '{"op":"serve","id":11,"listener":0,"events":1,"timeout_ms":50}'
  echo '{"op":"bind_sockets","id":12,"port":1.5}'
  echo '{"op":"bind_unix_socket","id":13}'
  echo '{"op":"close_all","id":14}'
} > "$dir/in"
timeout 20 $adapter < "$dir/in" > "$dir/out" 2> "$dir/err"
rc=$?
[ $rc -eq 0 ] || { echo "FAIL exit status $rc at end of input"; fail=1; }
lines=$(wc -l < "$dir/out")
[ "$lines" -eq 14 ] || { echo "FAIL $lines reply lines for 14 requests"; fail=1; }
check hello '"protocol": ?3' 1
check hello-id '"id": ?1[,}]' 1
check hello-capabilities '"capabilities": ?\{' 1
check not-json '"kind": ?"protocol"' 2
check wrong-type '"step": ?"port"' 3
check wrong-type-id '"id": ?3[,}]' 3
check unknown-field '"step": ?"colour"' 4
check unknown-op '"step": ?"op"' 5
check no-op '"id": ?6[,}]' 6
check long-line 'longer than' 7
check after-long-line '"open_fds": ?[0-9]+' 8
check crlf-id '"id": ?8[,}]' 8
check bind '"port": ?[1-9]' 9
check unknown-listener '"step": ?"listener"' 10
check serve-times-out '"timed_out": ?true' 11
check non-integer '"step": ?"port"' 12
check no-path '"step": ?"path"' 13
check close-all '"ok": ?true' 14
# A real conflict: a port held by one adapter process, asked for by another.
{
  echo '{"op":"bind_sockets","id":1,"port":0,"address":"127.0.0.1"}'
  sleep 2
} | timeout 20 $adapter > "$dir/holder" 2> /dev/null &
holder=$!
held=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
  held=$(grep -Eo '"port": ?[0-9]+' "$dir/holder" | grep -Eo '[0-9]+$')
  [ -n "$held" ] && break
  sleep 0.1
done
printf '{"op":"bind_sockets","id":1,"port":%s,"address":"127.0.0.1"}\n' "${held:-1}" |
  timeout 20 $adapter > "$dir/out" 2> /dev/null
check conflict-errno '"errno": ?"EADDRINUSE"' 1
check conflict-kind '"kind": ?"os"' 1
check conflict-no-leak '"fds_delta": ?0' 1
wait $holder
[ $fail -eq 0 ] && echo "protocol_test: all checks passed"
exit $fail
