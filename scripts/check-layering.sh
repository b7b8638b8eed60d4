#!/usr/bin/env bash
# The module layering and size rules of docs/ARCHITECTURE.md, checked on the sources (run by
# ctest as layering.Check, and by hand: scripts/check-layering.sh [repo root]).
#   - which module may include which (an #include "<module>/..." names the module it uses);
#   - no source file outside tests/ and bench/ over 800 lines.
# Prints every violation with file:line and exits 1 if there is any.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

# module: the modules it may include besides its own (docs/ARCHITECTURE.md's arrows). An
# #include "<module>/..." of any other module of this list is a violation.
modules="core net store slo alerting remote collector rules api app"
declare -A allowed=(
  [core]=""
  [net]="core"
  [store]="core"
  [slo]="core"
  [alerting]="core net"
  [remote]="core net store"
  [collector]="core net store remote"
  [rules]="core slo alerting store"
  [api]="core net store slo alerting rules collector"
  [app]="core net store slo alerting remote collector rules api"
)

status=0
for module in $modules; do
  [[ -d $module ]] || continue
  for other in $modules; do
    [[ $other == "$module" || " ${allowed[$module]} " == *" $other "* ]] && continue
    while IFS= read -r hit; do
      echo "layering: $hit: $module/ must not include $other/ (it may use: ${allowed[$module]:-nothing})"
      status=1
    done < <(grep -rnE "^#include \"$other/" "$module" --include='*.h' --include='*.cc' || true)
  done
done

while IFS= read -r file; do
  lines=$(wc -l < "$file")
  if ((lines > 800)); then
    echo "size: $file: $lines lines (the limit outside tests/ and bench/ is 800)"
    status=1
  fi
done < <(find . -path ./tests -prune -o -path ./bench -prune -o -path './build*' -prune \
           -o -path ./.git -prune -o \( -name '*.cc' -o -name '*.h' \) -print)

if ((status == 0)); then echo "layering: ok"; fi
exit $status
