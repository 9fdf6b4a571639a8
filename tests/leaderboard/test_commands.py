"""The commands: `portia leaderboard token ...`, `portia submit`, seeding and serving."""

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from leaderboard.cli import CLIENT_PACKAGES, SERVER_PACKAGES
from leaderboard.database import open_database, session_factory
from leaderboard.models import AuditEvent, Entry, Token
from leaderboard.seeding import BASELINES, seed_baselines
from leaderboard.settings import Settings
from portia_envs.cli import app
from portia_envs.results import write_results
from tests.leaderboard.conftest import fresh, scratch_database

runner = CliRunner()
# The portia command of this interpreter, whatever is on PATH.
PORTIA = [sys.executable, "-c", "from portia_envs.cli import app; app()"]


def portia(*args, **env):
    return runner.invoke(app, [str(arg) for arg in args], env=env or None)


# Tokens.


def test_tokens_are_made_listed_and_revoked_on_the_database(database_url):
    url = ["--database-url", database_url]
    made = portia("leaderboard", "token", "create", "alice", *url)
    assert made.exit_code == 0, made.output
    value = made.stdout.strip()
    assert value.startswith("ptk_") and len(value) == 47
    assert "it is shown once" in made.stderr
    admin = portia("leaderboard", "token", "create", "root", "--admin", *url)
    sessions = session_factory(open_database(Settings(database_url=database_url)))
    with sessions() as session:
        stored = session.scalar(select(Token).where(Token.name == "alice"))
        # Only the sha256 is kept: no column holds the token.
        assert stored.sha256 == hashlib.sha256(value.encode()).hexdigest()
        assert value not in [str(getattr(stored, c.key)) for c in Token.__table__.columns]
        assert session.scalar(select(Token.admin).where(Token.name == "root"))
    assert admin.exit_code == 0
    listed = portia("leaderboard", "token", "list", *url).stdout.splitlines()
    assert listed[0].split() == ["id", "name", "admin", "created", "revoked"]
    assert [line.split()[1:3] + line.split()[4:] for line in listed[2:]] == [
        ["alice", "no", "-"],
        ["root", "yes", "-"],
    ]
    revoked = portia("leaderboard", "token", "revoke", "alice", *url)
    assert revoked.exit_code == 0 and "revoked token" in revoked.stdout
    assert portia("leaderboard", "token", "list", *url).stdout.splitlines()[2].split()[-1] != "-"
    for args, message in [
        (("revoke", "alice"), "token 'alice' was already revoked"),
        (("revoke", "nobody"), "no token has the name 'nobody'"),
        (("revoke", "999"), "no token has the id '999'"),
        (("create", "alice"), "a token named 'alice' exists"),
        (("create", "7up"), "token name '7up' is not accepted; a name is a letter, then"),
    ]:
        failed = portia("leaderboard", "token", *args, *url)
        assert failed.exit_code == 2 and message in failed.stderr, failed.output
    with sessions() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["token.created", "token.created", "token.revoked"]


def test_a_database_url_of_another_kind_is_refused():
    answer = portia("leaderboard", "token", "list", "--database-url", "mysql://u@h/db")
    assert answer.exit_code == 2
    assert "database driver 'mysql' is not supported; accepted: sqlite:///PATH or" in (
        answer.stderr
    )


# Submitting with the client.


@pytest.fixture
def results_file(tmp_path, results):
    path = tmp_path / "results.json"
    write_results(fresh(results), path)
    return path


def test_submit_prints_the_entry_url(server, results_file):
    token = server.token()
    done = portia(
        "submit",
        results_file,
        "--server",
        server.url,
        "--method",
        "cli method",
        "--env-steps",
        5,
        "--description",
        "from the command line",
        PORTIA_TOKEN=token,
    )
    assert done.exit_code == 0, done.output
    entry_id = int(done.stdout.split()[3])
    assert done.stdout.strip() == (
        f"submitted as entry {entry_id} (self-reported): {server.url}/api/v1/entries/{entry_id}"
    )
    with server.sessions() as session:
        entry = session.get(Entry, entry_id)
    assert (entry.method, entry.env_steps, entry.description, entry.license) == (
        "cli method",
        5,
        "from the command line",
        None,
    )
    assert json.loads(entry.results) == json.loads(results_file.read_text())


def closed_port():
    """A port of 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_submit_refusals_are_one_line_errors(server, results_file, tmp_path):
    token = server.token()
    base = ["submit", results_file, "--method", "m"]
    assert portia(*base, "--server", server.url, "--token", token).exit_code == 0
    tampered = json.loads(results_file.read_text())
    tampered["episodes"].pop()
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    cases = [
        (
            base + ["--server", server.url, "--token", token],
            7,
            "Error: the leaderboard refused the submission (HTTP 409): this results file was "
            "already submitted: entry ",
        ),
        (
            base + ["--server", server.url, "--token", "ptk_wrong"],
            7,
            "Error: the leaderboard refused the token (HTTP 401): unknown API token",
        ),
        (
            base + ["--server", f"http://127.0.0.1:{closed_port()}", "--token", token],
            1,
            "Error: cannot reach the leaderboard at http://127.0.0.1:",
        ),
        (
            base + ["--server", "127.0.0.1:8000", "--token", token],
            2,
            "Error: --server must be the leaderboard's http:// or https:// URL",
        ),
        (
            base + ["--server", server.url],
            2,
            "Error: no API token: pass --token TOKEN or set PORTIA_TOKEN",
        ),
        (
            [
                "submit",
                tmp_path / "tampered.json",
                "--method",
                "m",
                "--server",
                server.url,
                "--token",
                token,
            ],
            3,
            "Error: not submitted: ",
        ),
    ]
    for args, code, message in cases:
        done = portia(*args)
        assert done.exit_code == code, (args, done.output)
        assert done.stderr.startswith(message), done.stderr
        assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.output


# Seeding the baselines.


def test_baselines_are_benched_stored_and_skipped_once_present(database_kind, tmp_path):
    random = (BASELINES[0],)
    benched = []
    with scratch_database(database_kind, tmp_path) as url:
        sessions = session_factory(open_database(Settings(database_url=url)))
        first = seed_baselines(
            sessions, tmp_path, baselines=random, episodes=1, workers=1, on_start=benched.append
        )
        assert [(s.baseline.spec, s.how) for s in first] == [("random", "stored")]
        again = seed_baselines(sessions, tmp_path, baselines=random, episodes=1, workers=1)
        assert [(s.entry_id, s.how) for s in again] == [(first[0].entry_id, "present")]
        with sessions() as session:
            entry = session.get(Entry, first[0].entry_id)
        assert (entry.tier, entry.method, entry.token_id) == ("baseline", "random", None)
        assert json.loads(entry.results)["run"]["episodes"] == 1
        assert (tmp_path / "baselines" / "smoke-v0" / "random" / "results.json").is_file()
    # A new database beside the same data directory takes the run from it.
    with scratch_database(database_kind, tmp_path) as url:
        sessions = session_factory(open_database(Settings(database_url=url)))
        cached = seed_baselines(
            sessions, tmp_path, baselines=random, episodes=1, workers=1, on_start=benched.append
        )
        assert [s.how for s in cached] == ["cached"]
    assert benched == [BASELINES[0]]
    # A run whose results were not written is resumed: its recorded episodes are kept.
    run_dir = tmp_path / "baselines" / "smoke-v0" / "random"
    written = json.loads((run_dir / "results.json").read_text())
    (run_dir / "results.json").unlink()
    with scratch_database(database_kind, tmp_path) as url:
        sessions = session_factory(open_database(Settings(database_url=url)))
        resumed = seed_baselines(sessions, tmp_path, baselines=random, episodes=1, workers=1)
        assert [s.how for s in resumed] == ["stored"]
    assert json.loads((run_dir / "results.json").read_text())["episodes"] == written["episodes"]


def test_the_shipped_baselines_are_random_scripted_and_the_bc_student():
    assert [b.spec for b in BASELINES] == [
        "random",
        "scripted",
        "teacher",
        "baselines.bc:smoke_student",
    ]
    assert len({b.method for b in BASELINES}) == len(BASELINES)


@pytest.mark.slow
def test_seed_baselines_ranks_the_teacher_and_the_student_above_random(tmp_path):
    done = portia("leaderboard", "seed-baselines", "--data-dir", tmp_path)
    assert done.exit_code == 0, done.output
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == [
        b.method for b in BASELINES
    ]
    again = portia("leaderboard", "seed-baselines", "--data-dir", tmp_path)
    assert again.stdout.count("(present)") == len(BASELINES)
    sessions = session_factory(open_database(Settings(data_dir=tmp_path)))
    with sessions() as session:
        student = session.scalar(select(Entry).where(Entry.method == "BC student"))
        random = session.scalar(select(Entry).where(Entry.method == "random"))
        teacher = session.scalar(select(Entry).where(Entry.method == "planning teacher"))
    assert student.policy_params > 0
    assert student.train_success > random.train_success
    assert teacher.heldout_success_low > random.heldout_success_high
    # serve --demo finds them present and serves them on the default view.
    process = subprocess.Popen(
        [*PORTIA, "leaderboard", "serve", "--data-dir", tmp_path, "--port", "0", "--demo"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(len(BASELINES) + 1)]
        assert [line.split(":")[0] for line in lines[:-1]] == [b.method for b in BASELINES]
        base = lines[-1].split()[3].rstrip("/")
        board = httpx.get(f"{base}/api/v1/suites/smoke-v0/leaderboard", timeout=30).json()
        assert {row["tier"] for row in board["boards"][0]["rows"]} == {"baseline"}
        assert len(board["boards"][0]["rows"]) == len(BASELINES)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


# Serving.


def test_serve_creates_the_database_prints_the_url_and_answers(tmp_path):
    data_dir = tmp_path / "data"
    process = subprocess.Popen(
        [*PORTIA, "leaderboard", "serve", "--data-dir", data_dir, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("Portia leaderboard at http://127.0.0.1:"), (
            line + process.stderr.read()
        )
        base = line.split()[3].rstrip("/")
        answer = httpx.get(f"{base}/api/v1/suites", timeout=30)
        assert answer.status_code == 200
        assert "smoke-v0" in [suite["name"] for suite in answer.json()]
        index = httpx.get(f"{base}/", timeout=30)
        assert index.status_code == 200 and "/suites/smoke-v0" in index.text
        assert (data_dir / "leaderboard.sqlite3").is_file()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    # Stopped by Ctrl-C, as a shell reports it (128 + SIGINT), without a traceback.
    assert process.returncode == 130
    assert "Traceback" not in process.stderr.read()


def blocked(*modules):
    """The portia command in a Python where ``modules`` cannot be imported."""
    block = f"import sys; [sys.modules.__setitem__(m, None) for m in {modules!r}]; "
    return [sys.executable, "-c", block + "from portia_envs.cli import app; app()"]


def test_the_leaderboard_commands_say_how_to_install_a_missing_extra(tmp_path):
    # Without the extra's packages portia still imports, and the commands say what to do.
    extra = (*SERVER_PACKAGES, *CLIENT_PACKAGES)
    server = ", ".join(SERVER_PACKAGES)
    postgresql = ["--database-url", "postgresql+psycopg://u@127.0.0.1:1/db"]
    for modules, args, message in [
        (
            extra,
            ["leaderboard", "token", "list", "--data-dir", tmp_path],
            f"the leaderboard needs its extra ({server} missing)",
        ),
        (
            extra,
            ["submit", tmp_path / "r.json", "--server", "http://x", "--method", "m"],
            "the leaderboard needs its extra (httpx missing)",
        ),
        (
            ("psycopg",),
            ["leaderboard", "token", "list", *postgresql],
            "the database driver is missing (psycopg)",
        ),
    ]:
        done = subprocess.run(
            blocked(*modules) + [str(arg) for arg in args],
            capture_output=True,
            text=True,
            timeout=120,
            env=os.environ,
        )
        assert done.returncode == 1
        assert done.stderr.strip() == f"Error: {message}: pip install -e '.[leaderboard]'"


def test_an_unreachable_database_is_a_one_line_error():
    url = f"postgresql+psycopg://u@127.0.0.1:{closed_port()}/db"
    done = portia("leaderboard", "token", "list", "--database-url", url)
    assert done.exit_code == 1
    assert done.stderr.startswith("Error: cannot open the database: (psycopg.OperationalError)")
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--max-upload-bytes", 0], "max_upload_bytes must be from 1 to 536870912"),
        (["--daily-attempts", 0], "daily_attempts must be at least 1 per day, got 0"),
    ],
)
def test_serve_refuses_limits_out_of_range(tmp_path, option, message):
    done = portia("leaderboard", "serve", "--data-dir", tmp_path, *option)
    assert done.exit_code == 2
    assert done.stderr.startswith(f"Error: {message}")
    assert not (tmp_path / "leaderboard.sqlite3").exists()


def test_serve_says_when_it_cannot_listen(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = portia("leaderboard", "serve", "--data-dir", tmp_path, "--port", port)
    assert done.exit_code == 1
    assert done.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ")
