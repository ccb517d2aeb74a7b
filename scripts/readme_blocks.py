"""Run every ```bash and ```python block of README.md as written, each in a fresh empty folder
(a Python block's folder holds the example files, ``jaxlaws demo --write-examples .``, which
the README says its Python examples read), and fail naming every command that failed. The two install lines (marked ``<!-- ci:demo -->`` / ``<!-- ci:test -->``) are run by
``scripts/readme_commands.sh`` instead. Usage: ``python scripts/readme_blocks.py [README.md]``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time


def blocks(text):
    """(language, first line number, body, in_checkout) of each bash/python fence not marked
    ci:NAME; ``in_checkout``: the fence follows ``<!-- run-in: checkout -->`` (it needs the
    repository's files, e.g. the docs build), so it runs in the checkout, not a fresh folder."""
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while not lines[j].startswith("```"):
            j += 1
        marked = i > 0 and lines[i - 1].startswith("<!-- ci:")
        if m.group(1) in ("bash", "python") and not marked:
            in_checkout = i > 0 and lines[i - 1].strip() == "<!-- run-in: checkout -->"
            out.append((m.group(1), i + 2, "\n".join(lines[i + 1:j]), in_checkout))
        i = j + 1
    return out


def commands(body):
    """A bash block's commands: continuation lines joined, blank and comment-only lines skipped."""
    cmds, cur = [], ""
    for line in body.splitlines():
        cur += line
        if cur.rstrip().endswith("\\"):
            cur = cur.rstrip()[:-1] + " "
            continue
        if cur.strip() and not cur.strip().startswith("#"):
            cmds.append(cur.strip())
        cur = ""
    return cmds


def run(cmd, cwd, shell=True):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, shell=shell, capture_output=True, text=True, executable="/bin/bash" if shell else None)
    return p, time.perf_counter() - t0


def main(readme="README.md"):
    found = blocks(open(readme).read())
    total, failed = 0, []
    repo = os.path.dirname(os.path.abspath(readme))
    for lang, line, body, in_checkout in found:
        with tempfile.TemporaryDirectory(prefix="readme_") as scratch:
            tmp = repo if in_checkout and lang == "bash" else scratch
            p, _ = run("jaxlaws demo --write-examples .", tmp) if lang == "python" else (None, 0)
            if p is not None and p.returncode:
                sys.exit(f"jaxlaws demo --write-examples failed:\n{p.stdout}{p.stderr}")
            todo = commands(body) if lang == "bash" else [body]
            for cmd in todo:
                if lang == "python":
                    with open(os.path.join(tmp, "block.py"), "w") as f:
                        f.write(body)
                    p, dt = run([sys.executable, "block.py"], tmp, shell=False)
                    shown = f"python block at README.md:{line}"
                else:
                    p, dt = run(cmd, tmp)
                    shown = cmd
                total += 1
                print(f"{'ok ' if p.returncode == 0 else 'FAIL'} {dt:6.1f} s  README.md:{line}  {shown[:110]}", flush=True)
                if p.returncode:
                    failed.append(shown)
                    print((p.stdout + p.stderr)[-3000:], flush=True)
    print(f"{total - len(failed)} of {total} README commands ran")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
