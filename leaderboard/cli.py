"""The leaderboard's commands: ``portia leaderboard ...`` and ``portia submit``.

Examples::

    portia leaderboard serve --data-dir lb --port 8000
    portia leaderboard token create alice
    portia leaderboard token create moderator --admin
    portia leaderboard seed-baselines --data-dir lb
    portia leaderboard worker --data-dir lb
    portia submit runs/mine/results.json --server http://127.0.0.1:8000 --method "My method"

Nothing of the ``leaderboard`` extra is imported here until a command runs: ``portia``
works without the extra, and these commands say how to install it when it is missing.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leaderboard.errors import SettingsError
from leaderboard.settings import (
    DEFAULT_DAILY_ATTEMPTS,
    DEFAULT_DATA_DIR,
    DEFAULT_MAX_UPLOAD_BYTES,
    Settings,
)
from portia_envs.cli.common import EXIT_BAD_FILE, EXIT_UNAVAILABLE, EXIT_USAGE, fail
from portia_envs.text_table import text_table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from leaderboard.seeding import Baseline

# Exit code of `portia submit` when the server refuses the submission or the token.
EXIT_REFUSED = 7
# Exit code of `portia status` when the job failed.
EXIT_FAILED = 8
# The packages the server and the admin commands import, and the one the client does.
SERVER_PACKAGES = ("fastapi", "sqlalchemy", "alembic", "uvicorn", "python_multipart")
CLIENT_PACKAGES = ("httpx",)
INSTALL_HINT = "pip install -e '.[leaderboard]'"
TOKEN_VARIABLE = "PORTIA_TOKEN"

leaderboard_app = typer.Typer(
    help="Run the leaderboard server and manage its accounts (docs/leaderboard.md).",
    no_args_is_help=True,
)
token_app = typer.Typer(
    help="Make, revoke and list API tokens (on the database directly, not over HTTP).",
    no_args_is_help=True,
)
leaderboard_app.add_typer(token_app, name="token")

DataDirOption = Annotated[
    Path,
    typer.Option(
        file_okay=False,
        help="Directory of the embedded SQLite database and the baselines' runs (created).",
    ),
]
DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        envvar="PORTIA_LEADERBOARD_DATABASE_URL",
        help="A database instead of the embedded SQLite file: "
        "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE.",
        show_default=False,
    ),
]


def _require(packages: tuple[str, ...]) -> None:
    """Exit with the install hint if any of ``packages`` cannot be imported."""
    missing = [name for name in packages if importlib.util.find_spec(name) is None]
    if missing:
        fail(
            f"the leaderboard needs its extra ({', '.join(missing)} missing): {INSTALL_HINT}",
            EXIT_UNAVAILABLE,
        )


def _settings(data_dir: Path, database_url: str | None, **limits: int) -> Settings:
    """Return the settings of the options, or exit with what is wrong."""
    try:
        return Settings(data_dir=data_dir, database_url=database_url, **limits)
    except SettingsError as error:
        fail(str(error), EXIT_USAGE)


def _sessions(settings: Settings) -> sessionmaker[Session]:
    """Open the database of ``settings`` (migrating it), or exit with why it cannot be."""
    from sqlalchemy.exc import SQLAlchemyError

    from leaderboard.database import open_database, session_factory

    try:
        return session_factory(open_database(settings))
    except SettingsError as error:
        fail(str(error), EXIT_USAGE)
    except ImportError as error:  # the database's driver
        fail(f"the database driver is missing ({error.name}): {INSTALL_HINT}", EXIT_UNAVAILABLE)
    except SQLAlchemyError as error:
        fail(f"cannot open the database: {str(error).splitlines()[0]}", EXIT_UNAVAILABLE)


@leaderboard_app.command()
def serve(
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    database_url: DatabaseUrlOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port; 0 picks a free one.")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="Seed the baselines first (seed-baselines), then serve.")
    ] = False,
    max_upload_bytes: Annotated[
        int, typer.Option(help="The largest submission accepted, bytes.")
    ] = DEFAULT_MAX_UPLOAD_BYTES,
    daily_attempts: Annotated[
        int, typer.Option(help="Submission attempts per token per UTC day, refused included.")
    ] = DEFAULT_DAILY_ATTEMPTS,
) -> None:
    """Serve the leaderboard's API until interrupted (Ctrl-C).

    Creates the database if needed, applies its migrations, and prints the URL: the web
    pages are at /, the API and its docs under /api/v1 (/api/v1/docs).
    """
    _require(SERVER_PACKAGES)
    from leaderboard.app import create_app
    from leaderboard.server import listen, make_server, url_of

    settings = _settings(
        data_dir, database_url, max_upload_bytes=max_upload_bytes, daily_attempts=daily_attempts
    )
    sessions = _sessions(settings)
    if demo:
        _seed(sessions, settings)
    try:
        sock = listen(host, port)
    except OSError as error:
        fail(f"cannot listen on {host}:{port}: {error.strerror or error}", EXIT_UNAVAILABLE)
    url = url_of(sock)
    typer.echo(
        f"Portia leaderboard at {url}/ (API: {url}/api/v1, docs: {url}/api/v1/docs); "
        f"Ctrl-C stops it"
    )
    make_server(create_app(settings, sessions)).run(sockets=[sock])


@leaderboard_app.command()
def worker(
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    database_url: DatabaseUrlOption = None,
    once: Annotated[bool, typer.Option(help="Run at most one job, then exit.")] = False,
    poll_s: Annotated[
        float, typer.Option(min=0.1, help="Seconds between looks at an empty queue.")
    ] = 5.0,
    stale_s: Annotated[
        float,
        typer.Option(min=1.0, help="Seconds without a heartbeat before a running job is requeued."),
    ] = 60.0,
) -> None:
    """Evaluate uploaded policies on hidden seeds: the verified tier's worker.

    Any number of workers may share a database; each claims one job at a time. The data
    directory holds the policy files and the seed secret (or set PORTIA_SEED_SECRET).
    """
    _require(SERVER_PACKAGES)
    from leaderboard.hidden_seeds import load_secret
    from leaderboard.worker import work

    settings = _settings(data_dir, database_url)
    sessions = _sessions(settings)
    try:
        secret = load_secret(settings.data_dir)
    except SettingsError as error:
        fail(str(error), EXIT_USAGE)
    work(
        sessions,
        settings.data_dir,
        secret,
        once=once,
        poll_s=poll_s,
        stale_s=stale_s,
        log=lambda line: typer.echo(line),
    )


@leaderboard_app.command("seed-baselines")
def seed_baselines(
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Bench the shipped baselines on smoke-v0 and store them as baseline entries.

    Runs random, the scripted expert, the planning teacher and the BC student (2 episodes
    per task, 2 workers) into DATA_DIR/baselines; baselines already stored are skipped,
    and runs already in the data directory are not run again.
    """
    _require(SERVER_PACKAGES)
    settings = _settings(data_dir, database_url)
    _seed(_sessions(settings), settings)


def _seed(sessions: sessionmaker[Session], settings: Settings) -> None:
    """Seed the baselines, saying what was done with each, or exit with the failure."""
    from leaderboard.seeding import seed_baselines as seed
    from portia_envs.errors import PortiaError

    def started(baseline: Baseline) -> None:
        typer.echo(f"benching {baseline.spec} ...", err=True)

    try:
        done = seed(sessions, settings.data_dir, on_start=started)
    except PortiaError as error:
        fail(f"seeding the baselines failed: {error}", EXIT_UNAVAILABLE)
    for seeded in done:
        typer.echo(f"{seeded.baseline.method}: entry {seeded.entry_id} ({seeded.how})")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="The account's name, such as alice.")],
    admin: Annotated[
        bool, typer.Option(help="May hide and flag entries, read the audit log.")
    ] = False,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Make an API token for NAME and print it, once: only its sha256 is stored."""
    _require(SERVER_PACKAGES)
    from leaderboard.errors import LeaderboardError
    from leaderboard.models import utc_now
    from leaderboard.tokens import create_token

    sessions = _sessions(_settings(data_dir, database_url))
    try:
        with sessions.begin() as session:
            token, value = create_token(session, name, admin=admin, at=utc_now())
    except LeaderboardError as error:
        fail(str(error), EXIT_USAGE)
    typer.echo(
        f"token {token.id} for {name!r}{' (admin)' if admin else ''}; it is shown once, "
        f"keep it now (send it as Authorization: Bearer TOKEN, or set {TOKEN_VARIABLE}):",
        err=True,
    )
    typer.echo(value)


@token_app.command("revoke")
def token_revoke(
    name_or_id: Annotated[str, typer.Argument(help="The token's name or id.")],
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Revoke a token: requests with it are refused from now on (401)."""
    _require(SERVER_PACKAGES)
    from leaderboard.errors import LeaderboardError
    from leaderboard.models import utc_now
    from leaderboard.tokens import revoke_token

    sessions = _sessions(_settings(data_dir, database_url))
    try:
        with sessions.begin() as session:
            token = revoke_token(session, name_or_id, at=utc_now())
    except LeaderboardError as error:
        fail(str(error), EXIT_USAGE)
    typer.echo(f"revoked token {token.id} of {token.name!r}")


@token_app.command("list")
def token_list(
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    database_url: DatabaseUrlOption = None,
) -> None:
    """List the tokens: id, name, admin, when made and revoked (never the tokens)."""
    _require(SERVER_PACKAGES)
    from leaderboard.tokens import list_tokens

    sessions = _sessions(_settings(data_dir, database_url))
    with sessions() as session:
        tokens = list_tokens(session)
    rows = [
        (
            str(token.id),
            token.name,
            "yes" if token.admin else "no",
            token.created_at.isoformat(timespec="seconds"),
            token.revoked_at.isoformat(timespec="seconds") if token.revoked_at else "-",
        )
        for token in tokens
    ]
    typer.echo(text_table(("id", "name", "admin", "created", "revoked"), rows))


def submit(
    server: Annotated[str, typer.Option(help="The leaderboard's URL, such as http://HOST:8000.")],
    method: Annotated[str, typer.Option(help="Your method's name, as the leaderboard shows it.")],
    results_file: Annotated[
        Path | None,
        typer.Argument(help="A results.json written by portia bench (self-reported tier)."),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="An ONNX policy for the server to evaluate on hidden seeds (verified tier).",
        ),
    ] = None,
    suite: Annotated[
        str | None, typer.Option(help="The suite the --policy is evaluated on.")
    ] = None,
    public_results: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Your own results.json of the --policy on public seeds (portia bench "
            "--agent policy.onnx, paused track): the server re-runs those seeds and shows "
            "any difference.",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar=TOKEN_VARIABLE,
            help=f"Your API token (or set {TOKEN_VARIABLE}).",
            show_default=False,
        ),
    ] = None,
    description: Annotated[str, typer.Option(help="What the method is.")] = "",
    url: Annotated[str | None, typer.Option(help="A page about it: paper or code.")] = None,
    license: Annotated[str | None, typer.Option(help="Its code's or weights' license.")] = None,
    env_steps: Annotated[
        int | None, typer.Option(min=0, help="Environment steps used to train it.")
    ] = None,
    trained_on: Annotated[str | None, typer.Option(help="What it was trained on.")] = None,
    policy_params: Annotated[
        int | None, typer.Option(min=0, help="The policy's number of parameters.")
    ] = None,
) -> None:
    """Submit a results file (self-reported) or an ONNX policy (verified); print the URL.

    A results file is validated here first, as `portia validate` does, and again by the
    server. A policy (--policy FILE --suite NAME) is checked by the server against the
    suite's policy contract and queued; `portia status JOB` follows its evaluation. With
    --public-results, the server's run of the policy on those public seeds is compared
    with yours, episode by episode.
    Exit codes: 0 stored or queued; 1 the server cannot be reached (or the leaderboard
    extra is missing); 2 bad options or no token; 3 the file is not valid; 7 the server
    refused the submission or the token (its reason is printed).
    """
    _require(CLIENT_PACKAGES)
    from leaderboard.client import submit_file, submit_policy
    from leaderboard.errors import ServerRefusedError, ServerUnreachableError, SettingsError
    from portia_envs.errors import ResultsError
    from portia_envs.results import load_results, validate_results

    if not token:
        fail(f"no API token: pass --token TOKEN or set {TOKEN_VARIABLE}", EXIT_USAGE)
    if (results_file is None) == (policy is None):
        fail("give a results file or --policy FILE --suite NAME (one of them)", EXIT_USAGE)
    if policy is not None and not suite:
        fail("--policy needs --suite NAME, the suite to evaluate it on", EXIT_USAGE)
    if policy is None and suite is not None:
        fail("--suite goes with --policy; a results file names its own suite", EXIT_USAGE)
    if policy is None and public_results is not None:
        fail("--public-results goes with --policy; it is that policy's run", EXIT_USAGE)
    given = {
        "method": method,
        "description": description,
        "url": url,
        "license": license,
        "env_steps": env_steps,
        "trained_on": trained_on,
        "policy_params": policy_params,
    }
    metadata = {key: value for key, value in given.items() if value not in (None, "")}
    try:
        for checked in (results_file, public_results):
            if checked is not None:
                try:
                    validate_results(load_results(checked), str(checked))
                except ResultsError as error:
                    fail(f"not submitted: {error}", EXIT_BAD_FILE)
        if results_file is None:
            job = submit_policy(
                policy,
                server=server,
                token=token,
                suite=suite,
                metadata=metadata,
                public_results=public_results,
            )
            typer.echo(
                f"queued as job {job['id']} (position {job['queue_position']}): {job['url']}"
            )
            return
        answer = submit_file(results_file, server=server, token=token, metadata=metadata)
    except SettingsError as error:
        fail(str(error), EXIT_USAGE)
    except ServerUnreachableError as error:
        fail(str(error), EXIT_UNAVAILABLE)
    except ServerRefusedError as error:
        fail(str(error), EXIT_REFUSED)
    typer.echo(f"submitted as entry {answer['id']} ({answer['tier']}): {answer['url']}")


def status(
    job: Annotated[int, typer.Argument(min=1, help="The job's id, as `portia submit` printed it.")],
    server: Annotated[str, typer.Option(help="The leaderboard's URL, such as http://HOST:8000.")],
    follow: Annotated[
        bool, typer.Option(help="Print each change until the job finishes or fails.")
    ] = False,
    poll_s: Annotated[float, typer.Option(min=0.1, help="Seconds between looks.")] = 5.0,
) -> None:
    """Print a verified-tier job's state; with --follow, until it finishes or fails.

    Exit codes: 0 finished, queued or running; 1 the server cannot be reached; 2 bad
    options; 7 the server refused the request (no such job); 8 the job failed.
    """
    _require(CLIENT_PACKAGES)
    import time

    from leaderboard.client import job_status
    from leaderboard.errors import ServerRefusedError, ServerUnreachableError, SettingsError

    shown = None
    while True:
        try:
            answer = job_status(server, job)
        except SettingsError as error:
            fail(str(error), EXIT_USAGE)
        except ServerUnreachableError as error:
            fail(str(error), EXIT_UNAVAILABLE)
        except ServerRefusedError as error:
            fail(str(error), EXIT_REFUSED)
        line = _job_line(answer)
        if line != shown:
            typer.echo(line)
            shown = line
        if answer["state"] == "finished" and answer["public_check"] is not None:
            typer.echo(_public_check_line(answer["public_check"]))
        if answer["state"] == "failed":
            fail(f"job {job} failed: {answer['reason']}\n{answer['log_tail'] or ''}", EXIT_FAILED)
        if not follow or answer["state"] == "finished":
            return
        time.sleep(poll_s)


def _job_line(answer: Mapping[str, Any]) -> str:
    """Return the one-line summary of a job's status."""
    state = answer["state"]
    if state == "queued":
        return f"job {answer['id']}: queued, position {answer['queue_position']}"
    if state == "running":
        return f"job {answer['id']}: running (attempt {answer['attempts']})"
    if state == "finished":
        return f"job {answer['id']}: finished, entries {' '.join(answer['entries'])}"
    return f"job {answer['id']}: failed ({answer['reason']})"


def _public_check_line(check: Mapping[str, Any]) -> str:
    """Return the one-line summary of a job's public-seed check."""
    seeds = ", ".join(str(seed) for seed in check["seeds"])
    where = f"public seeds {seeds} (paused)"
    if not check["claimed"]:
        return f"{where}: the server's run is on the job's page; you sent no results to compare"
    return (
        f"{where}: the server's run agrees with yours on {check['agreeing']} of "
        f"{check['episodes']} episodes" + ("" if check["agrees"] else "; see the job's page")
    )


def register(app: typer.Typer) -> None:
    """Add ``portia leaderboard``, ``submit`` and ``status`` (the ``portia.commands`` entry point).

    The leaderboard's commands import its extra only when they run.
    """
    app.add_typer(leaderboard_app, name="leaderboard")
    app.command()(submit)
    app.command()(status)
