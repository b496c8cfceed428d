"""`metaconf report --format json|md` and `metaconf report --html`: the machine formats, and the self-contained
page, checked in a real headless Chromium (rendered plots, nothing fetched from the network).

The runs: one real `metaconf run` (SMAC, random search over two families on iris, 6 trials, about 3 s) and
hand-built run directories in the shared format (the helpers of tests/test_report.py): interrupted, failed
before any trial, and an auto-sklearn run with its leaderboard.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from test_report import results, trials, write_run
from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.config.model import Config
from metaconf.report import results as rr
from metaconf.report.export import JSON_KEYS, load_runs
from metaconf.report.html import CSP, render_html
from metaconf.report.summary import COMPARISON_COLUMNS

cli = CliRunner()
CHROMIUM = Path("/usr/bin/chromium")

RUN_CONFIG = {
    "execution": {"seed": 3, "output_dir": "runs"},
    "data": {"demo": "iris"},
    "budget": {"walltime": "2m"},
    "optimizer": {"kind": "random"},
    "search_space": {"models": ["decision_tree", "k_nearest_neighbors"]},
    "stopping": {"n_trials": 6},
    "provenance": {
        "advisor": "rules",
        "values": {
            "search_space.models": {
                "origin": "rule",
                "reason": "R5: two small families <fit> the test & its budget",
            }
        },
    },
}


@pytest.fixture(scope="module")
def smac_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run directory: `metaconf run` on the bundled iris demo, 6 trials of random search."""
    folder = tmp_path_factory.mktemp("smac-run")
    config = folder / "tiny.yaml"
    config.write_text(yaml.safe_dump(RUN_CONFIG, sort_keys=False), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("METACONF_PROBE_CACHE", str(tmp_path_factory.mktemp("probe-cache")))
        result = cli.invoke(app, ["run", str(config), "--quiet"])
    assert result.exit_code == 0, result.output
    return folder / "runs" / "tiny"


def write_failed_run(run_dir: Path) -> Path:
    """A run that failed before its first trial: no incumbent, no trajectory rows, an error message."""
    failed = results(status="failed")
    failed.incumbent = None
    failed.trials_by_status = {}
    failed.stop_reason = None
    failed.error = "the data could not be loaded: <bad> & broken"
    rr.write_results(run_dir, failed, [])
    return run_dir


def write_autosklearn_run(run_dir: Path) -> Path:
    """An auto-sklearn run directory as metaconf writes it: an ensemble incumbent and leaderboard.csv."""
    from metaconf.targets.autosklearn.runner import _write_leaderboard

    askl = results(test_score=0.91, seed=1)
    askl.tool = "auto-sklearn"
    askl.versions = {"metaconf": "0.1.0", "python": "3.11.7", "auto-sklearn": "0.15.0", "smac": "1.2"}
    askl.incumbent = rr.Incumbent(
        {"ensemble": ["lda (model 4, weight 0.80)", "random_forest (model 2, weight 0.20)"]},
        0.06,
        0.94,
        0.91,
        0.09,
    )
    rr.write_results(run_dir, askl, trials([0.2, 0.06, 0.1]))
    rr.write_config(
        run_dir,
        Config.model_validate(
            {"tool": "auto-sklearn", "data": {"demo": "iris"}, "budget": {"walltime": "40s"}}
        ),
    )
    board = [
        {
            "rank": 1,
            "model_id": 4,
            "ensemble_weight": 0.8,
            "type": "lda",
            "cost": 0.06,
            "status": "StatusType.SUCCESS",
        },
        {
            "rank": 2,
            "model_id": 2,
            "ensemble_weight": 0.2,
            "type": "random_forest",
            "cost": 0.1,
            "status": "StatusType.SUCCESS",
        },
        {
            "rank": 3,
            "model_id": 3,
            "ensemble_weight": 0.0,
            "type": "random_forest",
            "cost": 0.2,
            "status": "StatusType.SUCCESS",
        },
        {
            "rank": 4,
            "model_id": 5,
            "ensemble_weight": 0.0,
            "type": "mlp",
            "cost": 1.0,
            "status": "StatusType.TIMEOUT",
        },
    ]
    _write_leaderboard(run_dir / "leaderboard.csv", board)
    return run_dir


@pytest.fixture(scope="module")
def other_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("other-runs")
    return {
        "interrupted": write_run(folder / "interrupted", status="interrupted"),
        "failed": write_failed_run(folder / "failed"),
        "askl": write_autosklearn_run(folder / "askl"),
    }


def report(*args: str) -> Any:
    return cli.invoke(app, ["report", *args])


# ------------------------------------------------------------------------------------------- --format json / md


def test_json_has_one_object_per_run_with_stable_keys(smac_run: Path, other_runs: dict[str, Path]) -> None:
    dirs = [smac_run, other_runs["interrupted"], other_runs["failed"], other_runs["askl"]]
    result = report(*map(str, dirs), "--format", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["run"] for r in records] == ["tiny", "interrupted", "failed", "askl"]
    for record, run_dir in zip(records, dirs, strict=True):
        assert tuple(record) == JSON_KEYS
        written = json.loads((run_dir / "results.json").read_text())
        assert record["status"] == written["status"] and record["tool"] == written["tool"]
        assert record["trials"] == written["trials"] and record["versions"] == written["versions"]
        assert record["metric"] == written["metric"]
        assert set(record["budget"]) == {"walltime_s", "cores", "memory_mb", "n_trials", "search_walltime_s"}
        assert record["run_dir"] == str(run_dir)
    tiny, interrupted, failed, askl = records
    written = json.loads((smac_run / "results.json").read_text())
    assert tiny["validation_score"] == written["incumbent"]["validation_score"]
    assert tiny["test_score"] == written["incumbent"]["test_score"]
    assert tiny["incumbent"] == written["incumbent"]["config"] and "model" in tiny["incumbent"]
    assert tiny["budget"] == {
        "walltime_s": 120.0,
        "cores": 1,
        "memory_mb": None,
        "n_trials": 6,
        "search_walltime_s": None,
    }
    assert tiny["task"]["dataset"] == "iris" and tiny["task"]["type"] == "classification"
    assert tiny["trials"]["total"] == 6 and tiny["seed"] == 3
    assert (
        interrupted["status"] == "interrupted" and interrupted["budget"]["n_trials"] is None
    )  # no config.yaml
    assert (
        failed["incumbent"] is None
        and failed["validation_score"] is None
        and failed["error"].startswith("the data")
    )
    assert askl["budget"]["walltime_s"] == 40.0 and askl["incumbent"]["ensemble"][0].startswith("lda")
    # a single run is a one-element array too
    one = report(str(smac_run), "--format", "JSON")
    assert one.exit_code == 0 and len(json.loads(one.stdout)) == 1


def md_cells(line: str) -> list[str]:
    assert line.startswith("| ") and line.endswith(" |"), line
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line[1:-1])]


def test_markdown_table_parses_and_escapes_pipes(
    smac_run: Path, other_runs: dict[str, Path], tmp_path: Path
) -> None:
    piped = write_run(tmp_path / "a|b", test_score=0.99)
    result = report(str(smac_run), str(other_runs["failed"]), str(piped), "--format", "md")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert md_cells(lines[0]) == [name for name, _ in COMPARISON_COLUMNS]
    assert re.fullmatch(r"\|(---:?\|){10}", lines[1]), lines[1]
    rows = [md_cells(line) for line in lines[2:5]]
    assert all(len(row) == len(COMPARISON_COLUMNS) for row in rows)
    assert [row[0] for row in rows] == ["tiny", "failed", "a|b *"]  # the best test score is marked
    assert rows[0][2] == "finished" and rows[0][7] == "6" and rows[1][2] == "failed" and rows[1][5] == "-"
    assert lines[5] == "" and lines[6].startswith("\\* best test score")  # not a Markdown list item
    single = report(str(smac_run), "--format", "md")
    assert single.exit_code == 0 and len(single.stdout.splitlines()) == 3


def test_text_stays_the_default_and_a_bad_format_exits_2(smac_run: Path) -> None:
    default = report(str(smac_run))
    assert default.exit_code == 0 and "metaconf run: tiny" in default.stdout
    assert report(str(smac_run), "-f", "text").stdout == default.stdout
    bad = report(str(smac_run), "--format", "xml")
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_json_report_does_not_import_plotting_or_the_search(smac_run: Path) -> None:
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from metaconf.cli.app import app\n"
        f"result = CliRunner().invoke(app, ['report', {str(smac_run)!r}, '--format', 'json'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(','.join(m for m in ('matplotlib', 'smac', 'sklearn', 'pandas') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


# ------------------------------------------------------------------------------------------- --html: the file


def test_html_is_written_once_and_refused_without_force(smac_run: Path, tmp_path: Path) -> None:
    page = tmp_path / "out" / "report.html"
    first = report(str(smac_run), "--html", str(page))
    assert first.exit_code == 0, first.output
    assert f"wrote {page}" in first.stderr and "metaconf run: tiny" in first.stdout  # the table still prints
    umask = os.umask(0)
    os.umask(umask)
    assert page.stat().st_mode & 0o777 == 0o666 & ~umask  # written like open() would: umask respected
    before = page.read_bytes()
    again = report(str(smac_run), "--html", str(page))
    assert again.exit_code == 2 and "already exists" in again.stderr and "--force" in again.stderr
    assert page.read_bytes() == before
    forced = report(str(smac_run), "--html", str(page), "--force", "--format", "json")
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)[0]["run"] == "tiny"
    assert page.read_bytes() == before  # the page is reproducible: same run, same bytes
    assert sorted(p.name for p in page.parent.iterdir()) == ["report.html"]  # no temp file left


def test_html_bad_input_exits_2_with_a_hint(smac_run: Path, tmp_path: Path) -> None:
    (tmp_path / "dir.html").mkdir()
    cases = {
        "an HTML page": report(str(smac_run), "--html", str(tmp_path / "x.pdf")),
        "is a directory": report(str(smac_run), "--html", str(tmp_path / "dir.html")),
        "is not a directory": report(str(tmp_path / "missing"), "--html", str(tmp_path / "y.html")),
        "results.json` does not exist": report(str(tmp_path), "--html", str(tmp_path / "z.html")),
    }
    for needle, result in cases.items():
        assert result.exit_code == 2, (needle, result.output)
        assert needle in result.stderr and "hint:" in result.stderr
        assert "Traceback" not in result.output
    assert not (tmp_path / "y.html").exists() and not (tmp_path / "z.html").exists()


def data_uris(page: str) -> list[bytes]:
    uris = re.findall(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page)
    return [base64.b64decode(u) for u in uris]


def assert_self_contained(page: str) -> None:
    assert f'<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP)}">' in page
    assert re.search(r"https?://", page, re.IGNORECASE) is None  # not a single address anywhere
    assert re.search(r"<(script|link|iframe|object|embed|base)\b", page, re.IGNORECASE) is None
    assert "@import" not in page and "url(" not in page
    assert all(src.startswith("data:image/svg+xml;base64,") for src in re.findall(r'src="([^"]*)"', page))
    for svg in data_uris(page):
        ET.fromstring(svg)  # well-formed
        text = svg.decode("utf-8")
        assert set(re.findall(r'https?://[^"\s]+', text)) <= {
            "http://www.w3.org/2000/svg",
            "http://www.w3.org/1999/xlink",
        }
        assert all(ref.startswith("#") for ref in re.findall(r'href="([^"]*)"', text))


def test_html_page_holds_summary_plots_incumbent_config_and_versions(smac_run: Path) -> None:
    page = render_html(load_runs([smac_run]))
    assert_self_contained(page)
    assert len(data_uris(page)) == 2  # the trajectory and the per-family plot
    written = json.loads((smac_run / "results.json").read_text())
    for needle in (
        "<title>metaconf run: tiny</title>",
        "classification on iris (150 rows x 4 features)",
        "accuracy (higher is better)",
        "wall time 2m, 1 core; search: 6 trials",
        "6 (6 success)",
        'class="status status-finished">finished</span> (n_trials (6) reached)',
        "best score (validation)",
        f"<td>{written['incumbent']['validation_score']:.4g}</td>",
        "held-out test score",
        f"<td>{written['incumbent']['test_score']:.4g}</td>",
        "smac/metaconf/3/runhistory.json",
        "<td>decision_tree</td>",
        "<td>k_nearest_neighbors</td>",
    ):
        assert needle in page, needle
    for key, value in written["incumbent"]["config"].items():
        assert f"<code>{html.escape(key)}</code>" in page
        assert html.escape(f"{value:.6g}" if isinstance(value, float) else str(value)) in page
    # every config value with origin and reason, as `metaconf explain --all` has them (reasons escaped)
    assert "<code>search_space.models</code>" in page
    assert "R5: two small families &lt;fit&gt; the test &amp; its budget" in page and "<fit>" not in page
    assert '<span class="origin origin-rule">rule</span>' in page
    assert re.search(
        r"<code>resampling.holdout_fraction</code></td><td[^>]*>0.33</td><td>.*default</span>", page
    )
    assert "<code>optimizer.kind</code>" in page and "Written by the rules advisor" in page
    for name in ("metaconf", "python", "smac", "scikit-learn"):
        assert f"<td>{name}</td><td>{html.escape(written['versions'][name])}</td>" in page


def test_html_compares_runs_of_both_tools_and_every_status(
    smac_run: Path, other_runs: dict[str, Path], tmp_path: Path
) -> None:
    odd = write_run(tmp_path / '<b>"odd" & $name', status="interrupted")
    dirs = [smac_run, other_runs["interrupted"], other_runs["failed"], other_runs["askl"], odd]
    page = render_html(load_runs(dirs))
    assert_self_contained(page)
    assert '<section id="comparison">' in page and page.count('<section class="run"') == 5
    assert 'class="plot trajectory combined"' in page
    # comparison table: one linked row per run, the best marked
    for index in range(1, 6):
        assert f'<a href="#run-{index}">' in page and f'id="run-{index}"' in page
    # the failed run: its escaped error, no plots, no incumbent
    failed = page.split('id="run-3"')[1].split("</section>")[0]
    assert "the data could not be loaded: &lt;bad&gt; &amp; broken" in failed
    assert "No trial finished: no trajectory to plot." in failed and "<img" not in failed
    assert "None: no trial finished." in failed and "holds no config.yaml" in failed
    # auto-sklearn: the ensemble as the incumbent, the families from leaderboard.csv (successful models only)
    askl = page.split('id="run-4"')[1].split("</section>")[0]
    assert "lda (model 4, weight 0.80)<br>random_forest (model 2, weight 0.20)" in askl
    assert "from <code>leaderboard.csv</code>" in askl and askl.count("<img") == 2
    assert '<td>lda</td><td class="num">1</td><td class="num">0.94</td>' in askl
    assert (
        '<td>random_forest</td><td class="num">2</td><td class="num">0.9</td>' in askl
        and "<td>mlp</td>" not in askl
    )
    assert "<td>auto-sklearn</td><td>0.15.0</td>" in askl
    assert '<code>tool</code></td><td class="value">auto-sklearn</td>' in askl
    # the interrupted run and a label that needs escaping (and a `$`, which matplotlib would read as maths)
    assert "status-interrupted" in page
    assert "&lt;b&gt;&quot;odd&quot; &amp; $name" in page and '<b>"odd"' not in page


# ------------------------------------------------------------------------------------------- --html: a real browser

HARNESS = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>body { margin: 0 } iframe { border: 0; display: block }</style></head>
<body>
<iframe id="single" src="single.html" width="1280" height="7000" scrolling="no"></iframe>
<iframe id="compare" src="compare.html" width="1280" height="16000" scrolling="no"></iframe>
<img id="probe" src="http://netlog-probe.invalid/probe.png" alt="">
<pre id="result">pending</pre>
<script>
function measure(id) {
  const doc = document.getElementById(id).contentDocument;
  if (!doc) return null;
  return {
    csp: (doc.querySelector('meta[http-equiv="Content-Security-Policy"]') || {}).content || null,
    runs: doc.querySelectorAll("section.run").length,
    images: Array.from(doc.images).map(img => {
      const box = img.getBoundingClientRect();
      return {figure: img.closest("figure").className, complete: img.complete, naturalWidth: img.naturalWidth,
              naturalHeight: img.naturalHeight, x: box.left, y: box.top, width: box.width, height: box.height};
    }),
  };
}
window.addEventListener("load", () => {
  document.getElementById("result").textContent = JSON.stringify({single: measure("single"), compare: measure("compare")});
});
</script>
</body></html>
"""

NETLOG_PROBE = "http://netlog-probe.invalid/probe.png"


def chromium(folder: Path, name: str, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run headless Chromium offline (every host name resolves to nothing) with a net log; return the process
    and the http(s) URLs that pages asked for (Chromium's own background requests, whose initiator is "not an
    origin", are left out)."""
    netlog = folder / f"{name}.netlog.json"
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        f"--user-data-dir={folder / f'{name}-profile'}", "--no-first-run", "--no-default-browser-check",
        "--disable-background-networking", "--disable-component-update", "--disable-extensions",
        "--host-resolver-rules=MAP * ~NOTFOUND", f"--log-net-log={netlog}",
        "--hide-scrollbars", "--window-size=1280,1600", *args,
    ]  # fmt: skip
    env = {**os.environ, "HOME": str(folder)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=folder)
    assert done.returncode == 0, done.stderr[-2000:]
    return done, page_requests(netlog)


def page_requests(netlog: Path) -> list[str]:
    text = netlog.read_text(encoding="utf-8")
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # a log cut short at exit has no closing brackets
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        url = str(params.get("url", ""))
        if (
            event["type"] == start_job
            and re.match(r"https?://", url)
            and params.get("initiator") != "not an origin"
        ):
            urls.append(url)
    return urls


def colour_pixels(
    image: Any, box: tuple[int, int, int, int], rgb: tuple[int, int, int], tolerance: int = 40
) -> int:
    """How many pixels in ``box`` of ``image`` are within ``tolerance`` (sum over R, G, B) of ``rgb``."""
    pixels = np.asarray(image.crop(box).convert("RGB"), dtype=int)
    return int((np.abs(pixels - np.array(rgb)).sum(axis=2) <= tolerance).sum())


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Chromium at /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it)",
)
def test_html_renders_its_plots_in_chromium_and_fetches_nothing(
    smac_run: Path, other_runs: dict[str, Path], tmp_path: Path
) -> None:
    from PIL import Image

    assert report(str(smac_run), "--html", str(tmp_path / "single.html")).exit_code == 0
    compare = [smac_run, other_runs["interrupted"], other_runs["failed"], other_runs["askl"]]
    assert report(*map(str, compare), "--html", str(tmp_path / "compare.html")).exit_code == 0
    (tmp_path / "harness.html").write_text(HARNESS, encoding="utf-8")

    # 1. The DOM after load, measured by the harness page around the two reports: every plot decoded, shown
    dom, requests = chromium(
        tmp_path, "dom", "--allow-file-access-from-files", "--dump-dom", (tmp_path / "harness.html").as_uri()
    )
    found = re.search(r'<pre id="result">(.*?)</pre>', dom.stdout, re.DOTALL)
    assert found is not None, dom.stdout[-2000:]
    measured = json.loads(html.unescape(found.group(1)))
    single, compared = measured["single"], measured["compare"]
    assert single["csp"] == compared["csp"] == CSP
    assert single["runs"] == 1 and compared["runs"] == 4
    assert [i["figure"] for i in single["images"]] == ["plot trajectory", "plot families"]
    # combined + (trajectory, families) for the real run, the interrupted one (no family records) and askl
    assert len(compared["images"]) == 1 + 2 + 1 + 2
    for image in single["images"] + compared["images"]:
        assert image["complete"] and image["naturalWidth"] > 300 and image["naturalHeight"] > 150, image
        assert image["width"] > 300 and image["height"] > 100, image  # laid out, not collapsed
    # the net log sees a page's request (the harness's own probe), and the reports made none
    assert requests == [NETLOG_PROBE]

    # 2. A screenshot of the report opened directly: the plot areas are drawn, in the plots' own colours
    _, requests = chromium(
        tmp_path, "shot", f"--screenshot={tmp_path / 'shot.png'}", (tmp_path / "single.html").as_uri()
    )
    assert requests == []
    shot = Image.open(tmp_path / "shot.png")
    trajectory, families = single["images"]
    for image in single["images"]:
        assert image["y"] + image["height"] <= shot.height, "the plots must be within the first screen"
    boxes = [
        (
            round(i["x"]) + 4,
            round(i["y"]) + 4,
            round(i["x"] + i["width"]) - 4,
            round(i["y"] + i["height"]) - 4,
        )
        for i in (trajectory, families)
    ]
    for box in boxes:
        grey = np.asarray(shot.crop(box).convert("L"))
        assert (grey < 200).mean() > 0.01, f"plot area {box} is blank"
    assert colour_pixels(shot, boxes[0], (0x1F, 0x77, 0xB4)) > 100  # the trajectory's line (matplotlib C0)
    assert colour_pixels(shot, boxes[1], (0xD6, 0x27, 0x28)) > 50  # each family's best (red diamonds)
    assert colour_pixels(shot, (0, 0, shot.width, min(boxes[0][1], boxes[1][1])), (0x1F, 0x77, 0xB4)) == 0


def test_html_survives_a_damaged_config_and_trial_records(smac_run: Path, tmp_path: Path) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(smac_run, broken)
    (broken / "config.yaml").write_text("a: [\n", encoding="utf-8")
    next(broken.glob("smac/*/*/runhistory.json")).write_text("{bad", encoding="utf-8")
    page_path, plot_path = tmp_path / "b.html", tmp_path / "b.png"
    result = report(str(broken), "--html", str(page_path), "--plot", str(plot_path), "-f", "json")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)[0]["budget"].values()) == {None}
    assert plot_path.read_bytes()[:4] == b"\x89PNG"
    page = page_path.read_text(encoding="utf-8")
    assert_self_contained(page)
    assert (
        "Not available: " in page and "invalid YAML" in page and "unknown (no readable config.yaml)" in page
    )
    assert "No per-family plot: cannot read the trials" in page
    assert page.count("<img") == 1  # the trajectory still
