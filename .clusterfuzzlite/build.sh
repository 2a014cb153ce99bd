#!/bin/bash -eu
# Builds every fuzz target with the engine's compiler and flags ($CC $CXX
# $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE) into $OUT, with its seed corpus
# (<target>_seed_corpus.zip: fuzz/corpus/<target>/ and the inputs of
# fuzz/regressions/<target>/), dictionary and options when present.
#
# It mirrors fuzz/CMakeLists.txt by hand because the base image's cmake is
# older than the project's minimum, and its compiler uses libc++, so only
# sources go in (impl/, the fakes the targets use, the adapter protocol), no
# prebuilt library.
#
# Runs from the repository root, or from $SRC/netutil-harness.
if [ -d "${SRC:-}/netutil-harness" ]; then cd "$SRC/netutil-harness"; fi
: "${OUT:?set OUT}" "${CXX:?set CXX}" "${LIB_FUZZING_ENGINE:?set LIB_FUZZING_ENGINE}"
CXXFLAGS="${CXXFLAGS:-}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The rule list of docs/SPEC.md that the adapter's hello reports, generated as
# cmake/SpecRules.cmake generates it: one NETUTIL_SPEC_RULE(id, level,
# mark, withdrawn) per "**BIND-013** · MUST · tornado" line.
mkdir -p "$work/generated"
{
  echo "// Generated from docs/SPEC.md by .clusterfuzzlite/build.sh. Do not edit."
  sed -nE 's/^\*\*([A-Z]+-[0-9]+)\*\*[^A-Za-z]*(MUST|SHOULD)[^A-Za-z]*([a-z]+).*$/\1 \2 \3 &/p' \
    docs/SPEC.md |
    while read -r id level mark line; do
      withdrawn=false
      case "$line" in *withdrawn*) withdrawn=true ;; esac
      echo "NETUTIL_SPEC_RULE(\"$id\", \"$level\", \"$mark\", $withdrawn)"
    done
} >"$work/generated/netutil_spec_rules.inc"
if ! grep -q NETUTIL_SPEC_RULE "$work/generated/netutil_spec_rules.inc"; then
  echo "build.sh: no rule found in docs/SPEC.md" >&2
  exit 1
fi

includes=(-Iimpl/include -Ifakes/include -Ifuzz -Itools/adapter -Itools/spec_rules -I"$work/generated")
# FuzzedSys is harness, not code under test: left out of coverage as in
# fuzz/CMakeLists.txt (libFuzzer builds only; sanitizers still apply).
harness_flags=()
case "$CXXFLAGS" in
  *fuzzer-no-link*)
    harness_flags=(-fno-sanitize-coverage=inline-8bit-counters,indirect-calls,trace-cmp,pc-table) ;;
esac

objs=()
for src in impl/src/*.cc fakes/src/*.cc tools/adapter/protocol.cc fuzz/fuzzed_sys.cc; do
  obj="$work/$(echo "$src" | tr / _).o"
  extra=()
  [ "$src" = fuzz/fuzzed_sys.cc ] && extra=("${harness_flags[@]}")
  # shellcheck disable=SC2086  # CXXFLAGS is a list of flags
  $CXX $CXXFLAGS -std=c++20 "${includes[@]}" "${extra[@]}" -c "$src" -o "$obj"
  objs+=("$obj")
done
# A static archive: each target links only the objects it uses.
ar rcs "$work/libnetutil_fuzz.a" "${objs[@]}"

built=0
for src in fuzz/*_fuzzer.cc; do
  t=$(basename "$src" .cc)
  [ "$t" = empty_fuzzer ] && continue
  # shellcheck disable=SC2086
  $CXX $CXXFLAGS -std=c++20 "${includes[@]}" "$src" -o "$OUT/$t" \
    $LIB_FUZZING_ENGINE "$work/libnetutil_fuzz.a"
  built=$((built + 1))
  rm -f "$OUT/${t}_seed_corpus.zip"
  if [ -d "fuzz/corpus/$t" ]; then
    (cd "fuzz/corpus/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
  fi
  if [ -d "fuzz/regressions/$t" ]; then  # the inputs, not their *.txt reports
    (cd "fuzz/regressions/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" . -x '*.txt')
  fi
  if [ -f "fuzz/$t.dict" ]; then cp "fuzz/$t.dict" "$OUT/"; fi
  if [ -f "fuzz/$t.options" ]; then cp "fuzz/$t.options" "$OUT/"; fi
done
echo "build.sh: built $built targets into $OUT"
