"""``portia envs``, ``suites``, ``tasks`` and ``play``: list what there is, watch an agent play.

Examples::

    portia envs
    portia play Portia/ArmPush-v0 --episodes 3
    portia play Portia/ArmPush-v0 --out push.mp4 --camera top

MuJoCo picks its OpenGL backend when it is first imported, so this module imports nothing
that imports MuJoCo; the commands import it once the backend is settled.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import gymnasium
import imageio.v2 as imageio
import typer
from gymnasium import spaces
from rich.console import Console
from rich.progress import Progress

from portia_envs.cli.common import EXIT_UNAVAILABLE, EXIT_USAGE, fail
from portia_envs.display import headless
from portia_envs.errors import AgentSpecError, did_you_mean
from portia_envs.registration import (
    ARM_ENV_SPECS,
    DETOUR_SPECS,
    PARALLEL_ENV_SPECS,
    SPIDER_SPECS,
    make_parallel,
)
from portia_envs.text_table import text_table

if TYPE_CHECKING:
    from portia_envs.suites import DetourSuite

VIDEO_SUFFIXES = (".gif", ".mp4")


class Camera(StrEnum):
    """The cameras of the Portia scenes."""

    OVERVIEW = "overview"
    TOP = "top"


def envs() -> None:
    """List every Portia id with its spaces, control period dt and time limit."""
    rows = []
    for env_id, (_, max_episode_steps) in {**ARM_ENV_SPECS, **SPIDER_SPECS, **DETOUR_SPECS}.items():
        with gymnasium.make(env_id) as env:
            rows.append(
                (
                    env_id,
                    _describe_observation(env.observation_space),
                    _describe_action(env.action_space),
                    f"{env.unwrapped.dt:g}",
                    str(max_episode_steps),
                )
            )
    for env_id in PARALLEL_ENV_SPECS:
        team = make_parallel(env_id)
        agents = ", ".join(team.possible_agents)
        first = team.possible_agents[0]
        rows.append(
            (
                f"{env_id} (PettingZoo, agents {agents})",
                f"each {_describe_observation(team.observation_space(first))}",
                f"each {_describe_action(team.action_space(first))}",
                f"{team.dt:g}",
                str(team.max_cycles),
            )
        )
        team.close()
    typer.echo(text_table(("id", "observation", "action", "dt (s)", "max steps"), rows))


def suites() -> None:
    """List the suites with their task counts, held-out axes and content hashes."""
    from portia_envs.suites import SUITES

    rows = [
        (
            suite.name,
            str(len(suite.train)),
            str(len(suite.heldout)),
            "; ".join(suite.heldout_axes),
            suite.hash,
        )
        for suite in SUITES.values()
    ]
    typer.echo(text_table(("suite", "train", "held out", "held-out axes", "hash"), rows))


def tasks(
    suite: Annotated[
        str, typer.Argument(help="A suite name, such as smoke-v0; see `portia suites`.")
    ],
) -> None:
    """List a suite's tasks: split, family, parameter ranges and an instruction (seed 0)."""
    from portia_envs.envs.arm import ArmEnv
    from portia_envs.errors import UnknownSuiteError
    from portia_envs.suites import SPLITS, DetourSuite, get_suite

    try:
        chosen = get_suite(suite)
    except UnknownSuiteError as error:
        fail(str(error), EXIT_USAGE)
    if isinstance(chosen, DetourSuite):
        _detour_tasks(chosen)
        return
    rows = []
    for split in SPLITS:
        envs: dict[str, ArmEnv] = {}
        for spec in chosen.tasks(split):
            body = spec.embodiment
            if body not in envs:
                envs[body] = ArmEnv(suite=suite, split=split, body=body)
            _, info = envs[body].reset(seed=0, options={"task": spec.task_id})
            ranges = ", ".join(f"{k} {lo:g}..{hi:g}" for k, (lo, hi) in spec.ranges.items())
            rows.append((spec.task_id, split, body, spec.family, ranges, info["instruction"]))
    typer.echo(f"{chosen.name} (hash {chosen.hash}): {chosen.description}")
    header = ("task", "split", "body", "family", "changed ranges", "instruction (seed 0)")
    typer.echo(text_table(header, rows))
    typer.echo(
        "Ranges not listed are the family's defaults. Units: m, rad for yaws, kg, N for the "
        "drawer's friction; hues run 0-1 (0 red, 0.33 green, 0.67 blue) and wrap."
    )


def _detour_tasks(suite: DetourSuite) -> None:
    """Print a Detour suite's tasks: each split's level seeds, and its instruction."""
    from portia_envs.suites import SPLITS

    rows = []
    for split in SPLITS:
        for spec in suite.tasks(split):
            env = gymnasium.make(suite.env_id, **suite.env_kwargs(spec.task_id, split))
            _, info = env.reset(seed=0)
            env.close()
            first, count = spec.levels
            levels = f"level seeds {first}..{first + count - 1}"
            instruction = info["instruction"]
            rows.append((spec.task_id, split, spec.embodiment, spec.family, levels, instruction))
    typer.echo(f"{suite.name} (hash {suite.hash}): {suite.description}")
    header = ("task", "split", "body", "family", "levels", "instruction (seed 0)")
    typer.echo(text_table(header, rows))
    typer.echo(
        f"Levels are {suite.size} x {suite.size} cells at the {suite.difficulty} difficulty; "
        f"each episode's reset seed draws one of its split's levels."
    )


def play(
    env_id: Annotated[
        str, typer.Argument(help="A Portia id, such as Portia/ArmReach-v0; see `portia envs`.")
    ],
    seed: Annotated[
        int, typer.Option(help="Seed of the first reset; later episodes continue its stream.")
    ] = 0,
    episodes: Annotated[int, typer.Option(min=1, help="Number of episodes to run.")] = 1,
    out: Annotated[
        Path | None,
        typer.Option(
            dir_okay=False,
            help="Write a video here instead of opening a window: .gif, or .mp4 (needs "
            'imageio-ffmpeg: pip install "portia-envs[video]"). Default: a window.',
            show_default=False,
        ),
    ] = None,
    agent: Annotated[
        str,
        typer.Option(
            help="The agent that acts: scripted (the id's expert), random, teacher, "
            "module:attribute, path/to/file.py[:attribute] or a model file, as portia bench "
            "takes them (exec: programs run under portia bench only)."
        ),
    ] = "scripted",
    camera: Annotated[Camera, typer.Option(help="The camera that films.")] = Camera.OVERVIEW,
    width: Annotated[int, typer.Option(min=16, help="Frame width, pixels.")] = 480,
    height: Annotated[int, typer.Option(min=16, help="Frame height, pixels.")] = 480,
) -> None:
    """Run an agent (the scripted expert by default) on ENV_ID, in a window or into a video (--out).

    Prints each episode's return, success, length and instruction. Videos play in real
    time (one frame per control period dt, the reset frame first); a GIF merges identical
    consecutive frames into one longer frame. On Linux without a display (DISPLAY and
    WAYLAND_DISPLAY unset), --out renders offscreen through EGL: MUJOCO_GL=egl, unless
    MUJOCO_GL is already set.
    """
    playable = (*ARM_ENV_SPECS, *SPIDER_SPECS, *PARALLEL_ENV_SPECS)
    if env_id not in playable:
        fail(
            f"unknown environment id {env_id!r}{did_you_mean(env_id, playable)}; "
            f"ids that play: {', '.join(playable)}",
            EXIT_USAGE,
        )
    if out is None:
        if headless():
            fail(
                "there is no display to open a window on (DISPLAY and WAYLAND_DISPLAY are "
                "unset); pass --out FILE.gif or --out FILE.mp4 to write a video instead",
                EXIT_UNAVAILABLE,
            )
    else:
        _check_video_path(out, width, height)
        if headless():
            os.environ.setdefault("MUJOCO_GL", "egl")
    # Deferred: it imports MuJoCo, which must come after MUJOCO_GL is settled.
    from portia_envs.rendering import RenderError

    n_frames = 0
    with contextlib.ExitStack() as stack:
        render = {
            "render_mode": "human" if out is None else "rgb_array",
            "camera": camera.value,
            "width": width,
            "height": height,
        }
        env, expert, max_episode_steps = _agent_and_env(env_id, agent, render)
        stack.enter_context(contextlib.closing(env))
        fps = 1.0 / env.unwrapped.dt
        writer = None if out is None else stack.enter_context(_open_video(out, fps))
        progress = stack.enter_context(
            Progress(console=Console(stderr=True), disable=writer is None)
        )
        task = progress.add_task(f"writing {out}", total=episodes * max_episode_steps)
        try:
            for episode in range(episodes):
                observation, info = env.reset(seed=seed if episode == 0 else None)
                expert.reset()
                instruction = info["instruction"]
                if writer is not None:
                    writer.append_data(env.render())
                    n_frames += 1
                episode_return, length, done = 0.0, 0, False
                while not done:
                    step = env.step(expert.act(observation))
                    observation, reward, terminated, truncated, info = step
                    episode_return += float(reward)
                    length += 1
                    done = terminated or truncated
                    if writer is not None:
                        writer.append_data(env.render())
                        n_frames += 1
                        progress.advance(task)
                # An episode that ends early still fills its share of the bar.
                progress.update(task, completed=(episode + 1) * max_episode_steps)
                typer.echo(
                    f"episode {episode + 1}/{episodes}: return {episode_return:.3f}, "
                    f"success {info['is_success']}, length {length}, "
                    f"instruction: {instruction}"
                )
        except RenderError as error:
            fail(str(error), EXIT_UNAVAILABLE)
    if out is not None:
        typer.echo(f"wrote {n_frames} frames ({n_frames / fps:.2f} s) to {out.resolve()}")


def _agent_and_env(env_id: str, spec: str, render: dict[str, Any]) -> tuple[Any, Any, int]:
    """Return the env of ``env_id`` (a team played as one), its agent and its step limit.

    ``spec`` ``"scripted"`` is the id's expert (the arms', the spider's or the handover
    team's); any other spec is built as ``portia bench`` builds it, in this process. Exits
    with a usage error for a spec that cannot be built here.
    """
    from portia_envs.experts import HandoverExpert, ScriptedExpert
    from portia_envs.experts.spider import SpiderExpert
    from portia_envs.harness.agents import build_agent
    from wrappers.adapters import AgentTypeError

    limit = {**ARM_ENV_SPECS, **SPIDER_SPECS}
    if env_id in PARALLEL_ENV_SPECS:
        if spec != "scripted":
            fail(f"{env_id} is a two-arm team: only --agent scripted plays it", EXIT_USAGE)
        team = make_parallel(env_id, **render)
        return _Team(team), HandoverExpert(team), team.max_cycles
    env = gymnasium.make(env_id, **render)
    if spec == "scripted":
        expert = SpiderExpert(env) if env_id in SPIDER_SPECS else ScriptedExpert(env)
        return env, expert, limit[env_id][1]
    try:
        return env, build_agent(spec, env), limit[env_id][1]
    except (AgentSpecError, AgentTypeError) as error:
        env.close()
        fail(str(error), EXIT_USAGE)


class _Team:
    """A PettingZoo parallel env played as one: shared reward, the last agent's info."""

    def __init__(self, team: Any) -> None:
        self.team = team
        self.unwrapped = team
        self._first, self._last = team.possible_agents[0], team.possible_agents[-1]

    def reset(self, *, seed: int | None = None) -> tuple[Any, dict[str, Any]]:
        observations, infos = self.team.reset(seed=seed)
        return observations, infos[self._last]

    def step(self, actions: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        observations, rewards, terminations, truncations, infos = self.team.step(actions)
        terminated = any(terminations.values())
        truncated = any(truncations.values())
        return observations, rewards[self._first], terminated, truncated, infos[self._last]

    def render(self) -> Any:
        return self.team.render()

    def close(self) -> None:
        self.team.close()


def _check_video_path(out: Path, width: int, height: int) -> None:
    """Exit with a clear message unless a video of this size can be written to ``out``."""
    suffix = out.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        fail(
            f"cannot write {str(out)!r}: unknown video extension {out.suffix or '(none)'!r}; "
            f"accepted: {', '.join(VIDEO_SUFFIXES)}",
            EXIT_USAGE,
        )
    if suffix == ".mp4":
        if width % 2 or height % 2:
            fail(
                f"an .mp4 needs an even --width and --height (H.264 stores colour per 2x2 "
                f"pixels), got {width}x{height}; pick even sizes or write a .gif",
                EXIT_USAGE,
            )
        if importlib.util.find_spec("imageio_ffmpeg") is None:
            fail(
                'writing .mp4 needs imageio-ffmpeg: pip install "portia-envs[video]" '
                "(or write a .gif, which needs nothing more)",
                EXIT_UNAVAILABLE,
            )


def _open_video(out: Path, fps: float) -> Any:
    """Open a video writer for ``out`` (.gif or .mp4) that plays ``fps`` frames a second.

    Returns:
        imageio's writer (its type depends on the format): ``append_data(frame)``, a context
        manager that finishes the file on exit.
    """
    if out.suffix.lower() == ".gif":
        # Pillow takes the frame duration in milliseconds; loop=0 repeats forever.
        return imageio.get_writer(out, duration=1000.0 / fps, loop=0)
    # Sizes are even (checked); 1 stops imageio from resizing frames to multiples of 16.
    return imageio.get_writer(out, fps=fps, macro_block_size=1)


def _describe_observation(space: spaces.Space) -> str:
    """Return ``key (shape)`` for each key of a Dict observation space, else its shape."""
    if isinstance(space, spaces.Dict):
        return ", ".join(f"{key} {subspace.shape}" for key, subspace in space.spaces.items())
    return str(space.shape)


def _describe_action(space: spaces.Space) -> str:
    """Return a Box's shape and range, such as ``(7,) in [-1, 1]``, or ``Discrete(n)``."""
    if isinstance(space, spaces.Discrete):
        return f"Discrete({space.n})"
    return f"{space.shape} in [{space.low.min():g}, {space.high.max():g}]"
