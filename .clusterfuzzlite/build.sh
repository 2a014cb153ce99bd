#!/bin/bash -eu
# Builds every fuzz target with the engine's compiler and flags ($CC $CXX
# $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE) into $OUT, with its seed corpus
# (<target>_seed_corpus.zip), dictionary and options when present.
# Runs from the repository root, or from $SRC/netutil-harness.
if [ -d "${SRC:-}/netutil-harness" ]; then cd "$SRC/netutil-harness"; fi
: "${OUT:?set OUT}" "${CXX:?set CXX}" "${LIB_FUZZING_ENGINE:?set LIB_FUZZING_ENGINE}"
CXXFLAGS="${CXXFLAGS:-}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
objs=()
for src in impl/src/*.cc fuzz/fuzzed_sys.cc; do
  obj="$work/$(basename "$src" .cc).o"
  $CXX $CXXFLAGS -std=c++20 -Iimpl/include -Ifuzz -c "$src" -o "$obj"
  objs+=("$obj")
done
ar rcs "$work/libnetutil_fuzz.a" "${objs[@]}"

for src in fuzz/*_fuzzer.cc; do
  t=$(basename "$src" .cc)
  [ "$t" = empty_fuzzer ] && continue
  $CXX $CXXFLAGS -std=c++20 -Iimpl/include -Ifuzz "$src" -o "$OUT/$t" \
    $LIB_FUZZING_ENGINE "$work/libnetutil_fuzz.a"
  if [ -d "fuzz/corpus/$t" ]; then
    (cd "fuzz/corpus/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
  fi
  [ -f "fuzz/$t.dict" ] && cp "fuzz/$t.dict" "$OUT/"
  [ -f "fuzz/$t.options" ] && cp "fuzz/$t.options" "$OUT/"
done
echo "build.sh: built $(ls "$OUT" | grep -c '_fuzzer$') targets into $OUT"
