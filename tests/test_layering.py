"""The package's design rules, read from its source: import layering, module size, x64 hygiene."""

import ast
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
PKG = REPO / "jaxlaws"
KERNELS = REPO / "kernels"
# The edges: pandas I/O, the command line, plots, the demo. Nothing in the core may import them.
EDGES = {"jaxlaws._cli", "jaxlaws._cli_common", "jaxlaws._cli_output", "jaxlaws._cli_fit", "jaxlaws._cli_allocate", "jaxlaws._cli_isoflop",
         "jaxlaws._cli_design", "jaxlaws._cli_extrapolate", "jaxlaws._cli_predict", "jaxlaws._cli_chain", "jaxlaws._cli_show",
         "jaxlaws._io", "jaxlaws._saved",
         "jaxlaws._plots", "jaxlaws._plots_study", "jaxlaws._report_html", "jaxlaws._demo", "jaxlaws.__main__"}


def _modules():
    mods = {}
    for path in sorted(PKG.rglob("*.py")):
        if "kernels" in path.relative_to(PKG).parts:
            continue
        rel = path.relative_to(REPO).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        mods[name] = path
    for path in sorted(KERNELS.glob("*.py")):
        name = "jaxlaws.kernels" + ("" if path.stem == "__init__" else f".{path.stem}")
        mods[name] = path
    return mods


def _imports(name, path):
    """Every jaxlaws module ``name`` imports (top-level and inside functions), and the names it takes."""
    tree = ast.parse(path.read_text())
    pkg = name if path.stem == "__init__" else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("jaxlaws"):
                for a in node.names:
                    sub = f"{mod}.{a.name}"
                    # `from pkg import _module` imports a module (how packages are built): no name
                    out.append((sub, None) if sub in MODS else (mod, a.name))
        elif isinstance(node, ast.Import):
            out += [(a.name, None) for a in node.names if a.name.startswith("jaxlaws")]
    return out


MODS = _modules()
GRAPH = {m: {t for t, _ in _imports(m, p) if t in MODS and t != m} for m, p in MODS.items()}


def test_kernels_import_nothing_of_jaxlaws():
    for m, deps in GRAPH.items():
        if m.startswith("jaxlaws.kernels"):
            bad = {d for d in deps if not d.startswith("jaxlaws.kernels")}
            assert not bad, f"{m} imports {bad}"


def test_core_imports_no_edge_module():
    for m, deps in GRAPH.items():
        if m in EDGES or m == "jaxlaws":
            continue
        assert not (deps & EDGES), f"core module {m} imports edge modules {deps & EDGES}"


def test_no_import_cycles():
    # Package __init__ files re-export and are imported by everything: leave them out,
    # and look for cycles among the modules that do the work.
    graph = {m: {d for d in deps if not MODS[d].name == "__init__.py"} for m, deps in GRAPH.items()
             if MODS[m].name != "__init__.py"}
    state = {}

    def visit(m, stack):
        state[m] = 1
        for d in graph.get(m, ()):
            if state.get(d) == 1:
                cycle = stack[stack.index(d):] + [d] if d in stack else [m, d]
                pytest.fail(f"import cycle: {' -> '.join(cycle)}")
            if d not in state:
                visit(d, stack + [d])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])


def test_no_private_names_across_modules():
    for m, p in MODS.items():
        for target, name in _imports(m, p):
            if name and name.startswith("_") and not name.startswith("__") and target in MODS:
                pytest.fail(f"{m} imports the private name {name} from {target}")


def test_no_module_over_400_lines():
    for m, p in MODS.items():
        n = len(p.read_text().splitlines())
        assert n <= 400, f"{m} has {n} lines"


def test_kernels_folder_is_visible_as_jaxlaws_kernels():
    link = PKG / "kernels"
    assert link.is_symlink() and link.resolve() == KERNELS.resolve()


def test_import_leaves_x64_alone_and_fit_still_runs_in_float64():
    code = (
        "import jax, numpy as np, jaxlaws as jl\n"
        "assert not jax.config.jax_enable_x64\n"
        "N = np.geomspace(1e7, 1e10, 12); D = np.geomspace(1e9, 1e11, 12)[::-1]\n"
        "y = 1.7 + 400 / N**0.34 + 1000 / D**0.28\n"
        "f = jl.fit('chinchilla', {'N': N, 'D': D, 'loss': y}, loss=jl.squared())\n"
        "assert not jax.config.jax_enable_x64, 'fit leaked x64'\n"
        "assert f.theta.dtype == np.float64 and f.objective < 1e-20, f.objective\n"
        "assert jax.numpy.zeros(1).dtype == jax.numpy.float32\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
