#!/usr/bin/env bash
# Runs the commands the README gives, exactly as written there, so README and CI cannot drift.
# Each command is the single line following a `<!-- ci:NAME -->` marker's ```bash fence.
# Usage: scripts/readme_commands.sh NAME   (e.g. demo, test)
set -euo pipefail
cd "$(dirname "$0")/.."
name="$1"
cmd=$(awk -v tag="<!-- ci:${name} -->" '
  $0 == tag {found=1; next}
  found && /^```/ {if (infence) exit; infence=1; next}
  found && infence {print; exit}
' README.md)
if [ -z "$cmd" ]; then
  echo "README.md has no command marked ci:${name}" >&2
  exit 1
fi
echo "+ $cmd"
bash -c "$cmd"
