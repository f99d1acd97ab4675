#!/usr/bin/env bash
# Prints the path of a Python >= 3.12 interpreter (port-ocean 0.54.1 needs 3.12+).
# Looks at $PYTHON, then python3.12/python3.13/python3 on PATH, then pyenv's versions.
set -u

is_ok() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
for name in python3.12 python3.13 python3; do
  command -v "$name" >/dev/null 2>&1 && candidates+=("$(command -v "$name")")
done
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
if command -v pyenv >/dev/null 2>&1; then
  pyenv_root="$(pyenv root)"
fi
for dir in $(ls -d "$pyenv_root"/versions/3.1[2-9]* 2>/dev/null | sort -V); do
  candidates+=("$dir/bin/python3")
done

for candidate in "${candidates[@]}"; do
  if is_ok "$candidate"; then
    echo "$candidate"
    exit 0
  fi
done

{
  echo "error: no Python 3.12+ interpreter found (port-ocean 0.54.1 requires Python >= 3.12)."
  echo "  looked at: \$PYTHON, python3.13, python3.12 and python3 on PATH, and $pyenv_root/versions/3.12*+"
  echo "  fix: install Python 3.12 (e.g. 'pyenv install 3.12') or set PYTHON=/path/to/python3.12"
} >&2
exit 1
