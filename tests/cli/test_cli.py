"""The command line, run as a user runs it: a real subprocess, real entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def fb(*args: str, cwd: Path, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "fusionbench", *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=600
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"fusionbench {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.mark.parametrize("argv", [["--help"], ["plugins", "list"], ["list", "models"], ["info", "reduced-res"]])
def test_listing_commands_do_not_import_torch_or_mlflow(argv):
    code = (
        "import sys\n"
        "from fusionbench.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "heavy = sorted(m for m in ('torch', 'mlflow') if m in sys.modules)\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY="


def test_plugins_list_shows_broken_plugins_and_conflicts(with_fixture_plugins, tmp_path):
    result = fb("plugins", "list", cwd=tmp_path)
    assert "fixture-broken-import" in result.stdout and "broken" in result.stdout
    assert "conflict" in result.stdout and "fixture-lms" in result.stdout
    data = json.loads(fb("plugins", "list", "--json", cwd=tmp_path).stdout)
    states = {p["name"]: p["state"] for p in data}
    assert states["fixture-raising"] == "broken" and states["fixture-good"] == "ok" and states["core"] == "ok"


def test_list_and_info(good_fixture_only, tmp_path):
    models = json.loads(fb("list", "models", "--json", cwd=tmp_path).stdout)
    assert {"exp", "brovey", "fixture-lms"} <= {m["name"] for m in models}
    ivf = json.loads(fb("list", "models", "--task", "ivf", "--json", cwd=tmp_path).stdout)
    ivf_names = {m["name"] for m in ivf}
    assert "fixture-ivf-only" in ivf_names and "exp" not in ivf_names and "fixture-lms" not in ivf_names
    info = fb("info", "fixture-noisy", cwd=tmp_path).stdout
    assert "sigma" in info and "fb-fixture-plugins" in info and "reduced-res" in info
    missing = fb("info", "fixture-noisx", cwd=tmp_path, check=False)
    assert missing.returncode == 2 and "did you mean fixture-noisy" in missing.stderr


def test_run_resume_and_leaderboard_end_to_end(good_fixture_only, mlflow_store, tmp_path):
    first = fb("run", "--suite", "fixture-suite", "--workers", "2", cwd=tmp_path)
    assert "2 ok" in first.stdout
    assert "fixture-mae" in first.stdout  # the leaderboard is printed at the end
    again = fb("run", "--suite", "fixture-suite", cwd=tmp_path)
    assert "2 already done" in again.stdout and "0 to run" in again.stdout
    plan = fb("run", "--suite", "fixture-suite", "--plan", cwd=tmp_path).stdout
    assert "done" in plan and "looked in /nonexistent/fixture" in plan
    markdown = fb("leaderboard", "show", "--format", "markdown", cwd=tmp_path).stdout
    lines = [line for line in markdown.splitlines() if line.startswith("| 1 |")]
    assert lines and "fixture-lms" in lines[0] and "**" in lines[0]  # best method first, in bold
    csv = fb("leaderboard", "show", "--format", "csv", cwd=tmp_path).stdout
    assert csv.splitlines()[0].startswith("dataset,method,metric,mean,std")
    assert {"n_images", "n_nan", "comparable", "flag", "spec"} <= set(csv.splitlines()[0].split(","))


def test_unknown_suite_is_a_clean_error(tmp_path):
    result = fb("run", "--suite", "reduced-rez", "--no-mlflow", cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert "did you mean 'reduced-res'" in result.stderr
    assert "Traceback" not in result.stderr


def test_doctor_reports_environment(tmp_path):
    out = fb("doctor", cwd=tmp_path).stdout
    for needle in ("torch", "mlflow", "plugin core", "results folder"):
        assert needle in out


def test_ctrl_c_stops_cleanly_and_a_rerun_resumes(good_fixture_only, tmp_path):
    import signal
    import time

    from fusionbench.results.reader import latest_runs, read_scores

    argv = [
        sys.executable,
        "-m",
        "fusionbench",
        "run",
        "--suite",
        "fixture-suite",
        "-m",
        "fixture-lms,fixture-slow",
        "--seeds",
        "0,1,2",
        "--workers",
        "1",
        "--no-mlflow",
    ]
    env = {**os.environ, "COLUMNS": "200"}
    # A terminal's foreground job has SIGINT's default disposition; a test run started from a
    # non-interactive shell's background job inherits SIG_IGN, so restore the default.
    process = subprocess.Popen(
        argv,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    runs_dir = tmp_path / "fusionbench-results" / "runs"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list(runs_dir.rglob("run-*.parquet"))) < 2:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 130, out
    assert "interrupted" in out and "rerun the same command to resume" in out
    runs = latest_runs(tmp_path / "fusionbench-results")
    assert {"ok", "interrupted"} <= set(runs["status"])
    done_before = read_scores(tmp_path / "fusionbench-results")
    n_ok = int((runs["status"] == "ok").sum())
    rerun = fb(*argv[3:], cwd=tmp_path)
    assert f"{n_ok} already done" in rerun.stdout
    scores = read_scores(tmp_path / "fusionbench-results")
    assert len(scores) == 6 * 3  # every run complete, none duplicated
    kept = (
        scores[scores["run_key"].isin(done_before["run_key"])].sort_values(["run_key", "image_id"])["value"].to_numpy()
    )
    assert (kept == done_before.sort_values(["run_key", "image_id"])["value"].to_numpy()).all()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_exit_when_the_coordinator_is_killed(good_fixture_only, tmp_path):
    """SIGKILL the coordinator mid-sweep (no chance to clean up): its worker must not run on."""
    import signal
    import time

    argv = [
        sys.executable,
        "-m",
        "fusionbench",
        "run",
        "--suite",
        "fixture-suite",
        "-m",
        "fixture-slow",
        "--seeds",
        "0,1,2,3,4,5",
        "--workers",
        "1",
        "--no-mlflow",
    ]
    env = {**os.environ, "FB_FIXTURE_SETUP_SLEEP": "120"}  # a long "training" that reports nothing
    process = subprocess.Popen(
        argv, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
    )

    def workers() -> list[int]:
        found = []
        for proc in Path("/proc").iterdir():
            try:
                if (
                    proc.name.isdigit()
                    and (proc / "stat").read_text().split(") ")[1].split()[2] == str(process.pid)
                    and b"spawn_main" in (proc / "cmdline").read_bytes()  # a worker, not a short-lived fork
                ):
                    found.append(int(proc.name))
            except (OSError, IndexError):
                continue
        return found

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not workers():
        time.sleep(0.1)
    time.sleep(2.0)  # the worker is inside the model's setup
    children = workers()
    assert children, "the coordinator started no worker"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    deadline = time.monotonic() + 30
    alive = children
    while time.monotonic() < deadline and alive:
        time.sleep(0.2)
        alive = [
            pid
            for pid in children
            if Path(f"/proc/{pid}").exists() and "Z" not in (Path(f"/proc/{pid}/stat").read_text().split(") ")[1][:1])
        ]
    assert not alive, f"worker(s) {alive} outlived their coordinator"


def test_run_starts_by_naming_broken_plugins_and_conflicts(with_fixture_plugins, tmp_path):
    """`run` silently uses the first plugin of a conflict: it says so first, one line each."""
    monkey_env = {"FUSIONBENCH_DISABLE_PLUGINS": ""}
    result = fb(
        "run",
        "--suite",
        "fixture-suite",
        "-m",
        "fixture-good:fixture-lms",
        "--executor",
        "inline",
        "--no-mlflow",
        cwd=tmp_path,
        env=monkey_env,
    )
    lines = result.stdout.splitlines()
    broken = [line for line in lines if line.startswith("broken plugin:")]
    assert {line.split()[2] for line in broken} == {"fixture-broken-import", "fixture-raising"}
    assert any("exploded while registering" in line for line in broken)
    conflicts = [line for line in lines if line.startswith("conflict:")]
    assert len(conflicts) == 1 and "fixture-lms" in conflicts[0] and "fixture-conflict" in conflicts[0]
    first_other = next(i for i, line in enumerate(lines) if not line.startswith(("broken plugin:", "conflict:")))
    assert first_other == len(broken) + len(conflicts)  # before anything else
    assert "1 ok" in result.stdout


def test_no_mlflow_flag_creates_no_store_and_logs_nothing(good_fixture_only, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fusionbench",
            "run",
            "--suite",
            "fixture-suite",
            "-m",
            "fixture-lms",
            "--executor",
            "inline",
            "--no-mlflow",
        ],
        cwd=tmp_path,
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 ok" in result.stdout
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "mlruns").exists()


def test_the_sweep_bar_counts_a_retried_run_once_more_instead_of_running_past_its_total():
    import io
    from datetime import datetime, timezone

    from rich.console import Console

    from fusionbench.cli.progress import RichListener
    from fusionbench.engine.executors.base import Job, JobFinished, JobStarted
    from fusionbench.engine.runspec import ComponentRef, RunSpec
    from fusionbench.results.records import RunOutcome, SessionInfo

    run = RunSpec(
        suite="s",
        suite_version="1",
        task="pansharpening",
        protocol="reduced",
        dataset=ComponentRef("dataset", "d"),
        split="test",
        model=ComponentRef("model", "m"),
        sampler=None,
        metrics=(),
        seed=0,
        repetition=0,
        data_sha256="x",
    )
    listener = RichListener(Console(file=io.StringIO(), width=120))
    ui = listener.as_listener()
    session = SessionInfo("id", "s", "1", "local", "r", 1, 0)
    first, retry = Job(run, 1), Job(run, 2)
    now = datetime.now(timezone.utc)
    with listener:
        ui.on_session(session, [first])
        for job, status in ((first, "crashed"), (retry, "ok")):
            ui.on_event(JobStarted(job, "cpu0"))
            ui.on_event(JobFinished(job, RunOutcome(status=status, started_at=now, finished_at=now)))
            sweep = next(t for t in listener.progress.tasks if t.id == listener.sweep)
            assert sweep.completed <= sweep.total
    assert (sweep.completed, sweep.total) == (2, 2)


def test_the_sweep_bar_is_never_behind_the_runs_it_has_listed_and_a_run_bar_is_never_0_of_unknown():
    import io
    from datetime import datetime, timezone

    from rich.console import Console

    from fusionbench.cli.progress import RichListener
    from fusionbench.engine.executors.base import Job, JobFinished, JobProgress, JobStarted
    from fusionbench.engine.runspec import ComponentRef, RunSpec
    from fusionbench.results.records import RunOutcome, RunRecord, SessionInfo

    runs = [
        RunSpec(
            suite="s", suite_version="1", task="pansharpening", protocol="reduced", dataset=ComponentRef("dataset", "d"),
            split="test", model=ComponentRef("model", f"m{i}"), sampler=None, metrics=(), seed=0, repetition=0, data_sha256="x",
        )
        for i in range(2)
    ]  # fmt: skip
    text = io.StringIO()
    listener = RichListener(Console(file=text, width=120, color_system=None))
    ui = listener.as_listener()
    now = datetime.now(timezone.utc)
    jobs = [Job(run, 1) for run in runs]
    with listener:
        ui.on_session(SessionInfo("id", "s", "1", "local", "r", 2, 0), jobs)
        ui.on_event(JobStarted(jobs[0], "cpu0"))
        bar = listener.progress.tasks[-1]
        assert "preparing" in str(listener.progress.columns[2].render(bar))
        ui.on_event(JobProgress(jobs[0], 10, 50))  # sampling steps of the first image
        assert listener.progress.tasks[-1].percentage == 20
        outcome = RunOutcome(status="ok", started_at=now, finished_at=now)
        # the runner records (and prints) a run before the executor's JobFinished reaches the UI
        ui.on_record(
            RunRecord(
                run_key=runs[0].run_key, attempt=1, suite="s", label=runs[0].label, spec_json="{}", outcome=outcome
            )
        )
        sweep = next(t for t in listener.progress.tasks if t.id == listener.sweep)
        assert sweep.completed == 1
        ui.on_event(JobFinished(jobs[0], outcome))
        assert sweep.completed == 1  # counted once


def test_a_run_reports_its_total_before_the_first_image_is_done(good_fixture_only, tmp_path):
    from fusionbench.engine.executors.base import JobProgress
    from fusionbench.engine.planner import Selection, plan_suite
    from fusionbench.engine.runner import Listener, RunOptions, run_plan
    from fusionbench.registry import load_registry

    registry = load_registry(disabled=["mlflow"])
    seen: list[tuple[int, int | None]] = []
    listener = Listener(on_event=lambda e: seen.append((e.done, e.total)) if isinstance(e, JobProgress) else None)
    plan = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-lms")])
    run_plan(registry, plan, RunOptions(results_dir=tmp_path / "r", executor="inline"), listener)
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]  # no "0/?": the total is known from the start


def test_markup_like_text_in_a_results_path_and_labels_never_crashes_run_or_show(good_fixture_only, tmp_path):
    results = str(tmp_path / "odd[/bold]" / "r")  # "[/" would be a closing tag to rich
    run = fb("run", "--suite", "fixture-suite", "-m", "fixture-noisy[sigma=0.3],fixture-noisy[sigma=0.7]", "--executor", "inline",
             "--no-mlflow", "--results", results, cwd=tmp_path, env={"COLUMNS": "80"})  # fmt: skip
    assert "odd[/bold]" in run.stdout and "MarkupError" not in run.stderr
    shown = fb("leaderboard", "show", "--results", results, cwd=tmp_path, env={"COLUMNS": "80"}).stdout
    assert "fixture-noisy[sigma=0.3]" in shown and "fixture-noisy[sigma=0.7]" in shown  # not both "fixture-noisy"
