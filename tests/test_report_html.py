"""``jaxlaws report``: one self-contained HTML file, rendered in headless Chromium without console
errors and with every figure loaded; methods cards in the report and in every JSON result."""

import json
import re
import shutil
import subprocess

import pytest

pytest.importorskip("matplotlib")

from jaxlaws._cli import main  # noqa: E402
from jaxlaws._demo_data import demo_data  # noqa: E402

# Recorded by the page itself, from the first line of <head>: uncaught errors, rejected promises,
# console.error calls, and on load how many images decoded. Written onto <html> for --dump-dom.
CHECKER = """<script>
(function () {
  var root = document.documentElement, errors = 0;
  function bump() { errors += 1; root.setAttribute('data-errors', errors); }
  root.setAttribute('data-errors', 0);
  window.addEventListener('error', bump, true);
  window.addEventListener('unhandledrejection', bump);
  var err = console.error; console.error = function () { bump(); err.apply(console, arguments); };
  window.addEventListener('load', function () {
    var imgs = Array.prototype.slice.call(document.images);
    root.setAttribute('data-images', imgs.length);
    root.setAttribute('data-loaded', imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length);
  });
})();
</script>"""


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _render(chromium, html_path):
    """Load the page in headless Chromium; the checker's attributes and the browser's console log."""
    p = subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                        "--virtual-time-budget=5000", "--dump-dom", f"file://{html_path}"],
                       capture_output=True, text=True, timeout=120)
    attrs = dict(re.findall(r'data-(errors|images|loaded)="(\d+)"', p.stdout))
    console = [ln for ln in p.stderr.splitlines() if ":CONSOLE" in ln]
    return {k: int(v) for k, v in attrs.items()}, console


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    demo_data().to_csv(tmp / "runs.csv", index=False)
    out = tmp / "report.html"
    assert main(["report", str(tmp / "runs.csv"), "--law", "chinchilla", "--out", str(out), "--n", "60",
                 "--drop-highest", "2", "--quiet"]) == 0
    return out


def test_the_report_is_self_contained_and_carries_the_methods_card(report):
    text = report.read_text()
    # nothing is fetched: every image inline, no external script, style sheet or font
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', text)
    assert text.count('src="data:image/png;base64,') == 5
    card = text[text.index("Methods card"):text.index("Fit report")]
    for field in ("chinchilla", "Hoffmann et al. (2022)", "huber[0.001](log pred_i - log y_i)", "huber delta",
                  "n: 4500", "90 in the table, 88 used; dropped: 2", "data fingerprint", "jax:", "command",
                  "--drop-highest 2"):
        assert field in card, field
    assert "Bootstrap intervals" in text and "Compute-optimal allocation" in text and "N_opt(C=1e+25)" in text


def test_the_report_sets_bootstrap_ses_beside_the_sandwich_and_flags_disagreement(report):
    """The fit report's table carries the bootstrap's SEs and their ratio, and the disagreement
    note names exactly the parameters whose ratio is outside [1/1.25, 1.25] (the flag itself is
    checked on a fit where it fires in test_report.py)."""
    import html as _html

    text = _html.unescape(report.read_text())
    part = text[text.index("Fit report"):text.index("Bootstrap intervals")]
    assert "<th>bootstrap SE</th><th>SE / bootstrap SE</th>" in part
    rows = re.findall(r"<tr><td>([A-Za-z]\w*)</td><td>[^<]*</td><td>([^<]*)</td><td>[^<]*</td><td>[^<]*</td>"
                      r"<td>([^<]*)</td><td>([^<]*)</td></tr>", part)
    assert [r[0] for r in rows] == ["E", "A", "B", "alpha", "beta"]
    off = set()
    for name, se, bse, ratio in rows:
        assert float(ratio) == pytest.approx(float(se) / float(bse), rel=1e-4)
        if not 1 / 1.25 <= float(ratio) <= 1.25:
            off.add(name)
    flag = re.search(r"asymptotic and bootstrap SEs disagree for ([^:]+):", part)
    named = set() if flag is None else set(re.findall(r"(\w+) \(", flag.group(1)))
    assert named == off


def test_the_report_renders_in_headless_chromium(report, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed here (CI installs Debian's chromium package)")
    text = report.read_text()
    page = tmp_path / "checked.html"
    page.write_text(text.replace("<head>", "<head>" + CHECKER, 1))
    attrs, console = _render(chromium, page)
    assert attrs == {"errors": 0, "images": 5, "loaded": 5}, attrs
    assert console == [], console
    # the check can fail: a corrupt figure and a script error are both caught
    broken = tmp_path / "broken.html"
    b64 = re.search(r'base64,([A-Za-z0-9+/=]{200})', text).group(1)
    broken.write_text(text.replace("<head>", "<head>" + CHECKER, 1).replace(b64, "AAAA" * 50, 1)
                      .replace("</body>", "<script>undefinedFunction()</script></body>"))
    attrs, console = _render(chromium, broken)
    assert attrs["loaded"] == 4 and attrs["errors"] >= 1 and any("undefinedFunction" in c for c in console)


def test_every_json_result_has_a_methods_card(tmp_path, capsys):
    demo_data().to_csv(tmp_path / "runs.csv", index=False)
    runs = str(tmp_path / "runs.csv")
    assert main(["fit", runs, "--law", "chinchilla", "--json", str(tmp_path / "fit.json")]) == 0
    assert main(["isoflop", runs, "--n", "20", "--json", str(tmp_path / "iso.json")]) == 0
    assert main(["allocate", "--law", "chinchilla", "--coefficients", "besiroglu2024", "--compute", "1e22",
                 "--json", str(tmp_path / "alloc.json")]) == 0
    capsys.readouterr()
    fit = json.loads((tmp_path / "fit.json").read_text())["methods"]
    assert fit["objective"] == "sum_i w_i huber[0.001](log pred_i - log y_i)" and fit["huber_delta"] == 0.001
    assert fit["runs"] == {"in_table": 90, "used": 90, "dropped": {}} and fit["starts"]["n"] == 4500
    assert fit["command"] == f"jaxlaws fit {runs} --law chinchilla --json {tmp_path / 'fit.json'}"
    for name in ("iso.json", "alloc.json"):
        card = json.loads((tmp_path / name).read_text())["methods"]
        assert card["command"].startswith("jaxlaws ") and card["versions"]["jax"]
