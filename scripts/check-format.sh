#!/usr/bin/env bash
# Fails when a tracked C++ file differs from what clang-format (14, the
# repository's .clang-format) makes of it, naming each such file; `--fix`
# formats them in place instead. Hand-aligned tables sit between
# `// clang-format off` and `// clang-format on`.
#
#   scripts/check-format.sh [--fix]
set -euo pipefail
cd "$(dirname "$0")/.."
fmt=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$fmt" ]; then
  echo "check-format: clang-format not found (package clang-format)" >&2
  exit 1
fi
mapfile -t files < <(git ls-files '*.cc' '*.h')
if [ "${1:-}" = --fix ]; then
  "$fmt" -i "${files[@]}"
  exit 0
fi
# One clang-format per 16 files, as many at once as there are cores (one per
# file took 30 s of CI); a violation is a line "FILE:LINE:COL: error: ...".
set +e
report=$(printf '%s\0' "${files[@]}" |
  xargs -0 -n 16 -P "$(nproc)" "$fmt" --dry-run --Werror 2>&1 >/dev/null)
rc=$?
set -e
mapfile -t bad < <(printf '%s\n' "$report" | grep -oE '^[^: ]+:[0-9]+:[0-9]+: (error|warning):' |
  cut -d: -f1 | sort -u)
if [ $rc -ne 0 ] && [ ${#bad[@]} -eq 0 ]; then
  echo "check-format: clang-format failed (exit $rc):" >&2
  printf '%s\n' "$report" | head -n 20 >&2
  exit 1
fi
if [ ${#bad[@]} -gt 0 ]; then
  echo "check-format: ${#bad[@]} of ${#files[@]} files are not formatted (scripts/check-format.sh --fix):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
