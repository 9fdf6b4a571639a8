"""Agent specs: how the harness and the command line name the agent to run.

A spec is one of:

- a built-in name: ``random`` (uniform actions, seeded per episode), ``scripted`` (the
  scripted experts, ``portia_envs.experts.ScriptedExpert``), ``planner`` (Detour's planner,
  ``portia_envs.detour.planner.ImaginingPlanner``) or ``teacher`` (the planning teacher,
  ``baselines.teacher.make_teacher``; needs the ``baselines`` package);
- ``module:attribute``, such as ``my_agents.reach:make_agent``;
- a Python file, ``path/to/agent.py:attribute``, or ``path/to/agent.py`` for its
  ``make_agent``;
- a model file, ``path/to/policy.onnx`` (ONNX), ``.pt``/``.ts`` (TorchScript, or a Portia
  BC, DT or PPO checkpoint) or ``.zip`` (Stable-Baselines3), told apart by the file's own
  contents (``harness.model_agents``);
- ``exec:COMMAND ARGS``: a program in any language that speaks the agent protocol
  (``docs/protocol.md``) on its standard input and output, started once per worker.

The attribute is an agent factory, called with the env the agent will act in (a
``TimePause`` around the task's env, so a planner may imagine) and returning anything
``wrappers.adapters.as_agent`` accepts: an agent, a Stable-Baselines3 model or a callable
``observation -> action``. A class such as ``ScriptedExpert`` is such a factory. An object
that already has ``act`` and ``reset`` (not a class) is used as it is.

Agents are built by name in each worker process, so nothing but the spec crosses between
processes and nothing below imports ``baselines``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from portia_envs.errors import AgentSpecError, did_you_mean
from portia_envs.plugins import AGENTS, contributions
from wrappers.adapters import Agent, as_agent

# Portia's own built-in agents; ``builtin_agents`` adds those other packages contribute.
CORE_AGENTS: dict[str, str] = {
    "random": "portia_envs.harness.agents:RandomAgent",
    "scripted": "portia_envs.experts:ScriptedExpert",
    "planner": "portia_envs.detour.planner:ImaginingPlanner",
}
# The factory a file spec names when it names none.
DEFAULT_FILE_ATTRIBUTE = "make_agent"
# What starts a spec naming a program that speaks the protocol itself.
EXEC_PREFIX = "exec:"
# File suffixes of model files that are agent specs by themselves (``harness.model_agents``).
MODEL_SUFFIXES = (".onnx", ".pt", ".pth", ".ts", ".zip")


class RandomAgent:
    """Uniform random actions over a ``Box`` action space, seeded per episode.

    Args:
        env: The env whose action space is sampled.
    """

    name = "random"

    def __init__(self, env: gymnasium.Env) -> None:
        space = env.action_space
        if not isinstance(space, gymnasium.spaces.Box) or not space.is_bounded():
            raise AgentSpecError(f"the random agent needs a bounded Box action space, got {space}")
        self._low, self._high, self._dtype = space.low, space.high, space.dtype
        self.reset()

    def act(self, observation: Any) -> np.ndarray:
        """Return a uniform sample of the action space (the observation is not looked at)."""
        return self._rng.uniform(self._low, self._high).astype(self._dtype)

    def reset(self, seed: int | None = None) -> None:
        """Restart the generator from ``seed`` (fresh entropy if None)."""
        self._rng = np.random.default_rng(seed)


def builtin_agents() -> dict[str, str]:
    """Return every built-in agent name and the spec it stands for.

    Portia's own (``CORE_AGENTS``), then those of the ``portia.agents`` entry points
    (``baselines`` contributes ``teacher``).
    """
    return {**CORE_AGENTS, **contributions(AGENTS)}


def resolve_spec(spec: str) -> str:
    """Return ``spec`` in the form workers load: built-ins expanded, file paths absolute.

    Raises:
        AgentSpecError: If the spec has none of the accepted forms, or names a missing file.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise AgentSpecError(f"an agent spec must be a non-empty string, got {spec!r}")
    builtins = builtin_agents()
    if spec in builtins:
        return builtins[spec]
    if is_exec_spec(spec):
        return EXEC_PREFIX + shlex.join(exec_command(spec))
    if is_model_spec(spec):
        model = Path(spec).expanduser().resolve()
        if not model.is_file():
            raise AgentSpecError(f"model file {spec!r} does not exist")
        return str(model)
    path, _, attribute = spec.partition(":") if ":" in spec else (spec, "", "")
    if path.endswith(".py"):
        file = Path(path).expanduser().resolve()
        if not file.is_file():
            raise AgentSpecError(f"agent file {path!r} (in spec {spec!r}) does not exist")
        return f"{file}:{attribute or DEFAULT_FILE_ATTRIBUTE}"
    if not attribute:
        raise AgentSpecError(
            f"unknown agent {spec!r}{did_you_mean(spec, builtins)}; accepted: a built-in "
            f"name ({', '.join(builtins)}), module:attribute, path/to/file.py[:attribute], a "
            f"model file ({', '.join(MODEL_SUFFIXES)}) or exec:COMMAND"
        )
    return spec


def load_factory(spec: str) -> Callable[[gymnasium.Env], Any] | Agent:
    """Import and return what a spec names (resolving it first).

    Raises:
        AgentSpecError: If the module, file or attribute cannot be loaded.
    """
    resolved = resolve_spec(spec)
    if is_exec_spec(resolved):
        raise AgentSpecError(
            f"agent {spec!r} is a program of its own: it runs only in its own process "
            f"(portia bench with the default --isolation process)"
        )
    if is_model_spec(resolved):
        from portia_envs.harness.model_agents import model_factory

        return model_factory(Path(resolved))
    location, _, attribute = resolved.rpartition(":")
    if location.endswith(".py"):
        module = _import_file(Path(location), spec)
    else:
        try:
            module = importlib.import_module(location)
        except ImportError as error:
            hint = " (pip install -e '.[baselines]')" if location.startswith("baselines") else ""
            raise AgentSpecError(
                f"cannot import module {location!r} for agent {spec!r}: {error}{hint}"
            ) from error
    try:
        return getattr(module, attribute)
    except AttributeError as error:
        public = [name for name in vars(module) if not name.startswith("_")]
        raise AgentSpecError(
            f"module {location!r} has no attribute {attribute!r} (agent {spec!r})"
            + did_you_mean(attribute, public)
        ) from error


def build_agent(spec: str, env: gymnasium.Env) -> Agent:
    """Build the agent a spec names, to act in ``env``.

    Args:
        spec: The agent spec (see the module docstring).
        env: The env the agent acts in; factories are called with it.

    Returns:
        The agent.

    Raises:
        AgentSpecError: If the spec cannot be loaded, or names neither a factory nor an agent.
        wrappers.adapters.AgentTypeError: If what the factory returns is no agent.
    """
    target = load_factory(spec)
    if inspect.isclass(target) or not callable(getattr(target, "act", None)):
        if not callable(target):
            raise AgentSpecError(
                f"agent {spec!r} names a {type(target).__name__}; accepted: a factory called "
                f"with the env (a class or function), or an agent object with act and reset"
            )
        target = target(env)
    return as_agent(target)


def describe_agent(spec: str) -> dict[str, str | None]:
    """Return the spec, the agent's name, its version and content hash, for a results file.

    Imports the agent (see ``agent_name_and_version``): the in-process mode's way. A run
    with the agent in its own process learns name and version from the agent's
    ``hello`` instead, and never imports it.

    Raises:
        AgentSpecError: If the spec cannot be loaded.
    """
    name, version = agent_name_and_version(load_factory(spec))
    return {"spec": spec, "name": name, "version": version, "hash": agent_hash(spec)}


def agent_name_and_version(target: Any) -> tuple[str, str | None]:
    """Return an agent factory's (or agent's) name and version.

    The name is its ``name`` attribute, else its ``__name__`` (a factory's) or class name;
    the version its ``version`` attribute (None if it says None: a model file's factory),
    else the version of the installed distribution its module belongs to, else None.
    """
    name = getattr(target, "name", None) or getattr(target, "__name__", type(target).__name__)
    version = getattr(target, "version", None)
    if version is None and not hasattr(target, "version"):
        module = getattr(target, "__module__", None) or type(target).__module__
        distributions = importlib.metadata.packages_distributions().get(module.split(".")[0])
        if distributions:
            version = importlib.metadata.version(distributions[0])
    return str(name), None if version is None else str(version)


def agent_hash(spec: str) -> str:
    """Return ``sha256:HEX`` of what the spec names and its source, found without importing.

    A model file's hash is the sha256 of its bytes (what ``sha256sum`` prints). A program's
    (``exec:``) covers the command line, the program's file and every argument that names a
    file. Otherwise the source is the file a file spec names, or the file of the module a
    ``module:attribute`` spec names (for a package, its ``__init__.py``), located without
    running any of its code. What the module imports in turn is not
    covered: the hash tells two agent files apart, it does not pin an environment.

    Raises:
        AgentSpecError: If the spec is malformed or its file cannot be found.
    """
    resolved = resolve_spec(spec)
    if is_model_spec(resolved):
        return f"sha256:{hashlib.sha256(Path(resolved).read_bytes()).hexdigest()}"
    if is_exec_spec(resolved):
        return _command_hash(exec_command(resolved))
    location, _, attribute = resolved.rpartition(":")
    if location.endswith(".py"):
        file, named = Path(location), attribute  # where the file lies does not matter
    else:
        file, named = _module_file(location, spec), f"{location}:{attribute}"
    digest = hashlib.sha256(named.encode())
    digest.update(b"\0")
    digest.update(file.read_bytes())
    return f"sha256:{digest.hexdigest()}"


def is_exec_spec(spec: str) -> bool:
    """Whether ``spec`` names a program that speaks the protocol (``exec:COMMAND ARGS``)."""
    return spec.startswith(EXEC_PREFIX)


def is_model_spec(spec: str) -> bool:
    """Whether ``spec`` names a model file (by its suffix; its contents say which kind)."""
    return not is_exec_spec(spec) and Path(spec).suffix.lower() in MODEL_SUFFIXES


def exec_command(spec: str) -> list[str]:
    """Return the program and arguments of an ``exec:`` spec, split as a shell would.

    Raises:
        AgentSpecError: If the command is empty, cannot be split, or its program is neither
            on ``PATH`` nor an executable file.
    """
    try:
        command = shlex.split(spec.removeprefix(EXEC_PREFIX))
    except ValueError as error:
        raise AgentSpecError(f"cannot split the command of agent {spec!r}: {error}") from None
    if not command:
        raise AgentSpecError(
            f"agent {spec!r} names no program; accepted: exec:COMMAND ARGS, such as "
            f'"exec:node agent.js"'
        )
    if shutil.which(command[0]) is None:
        raise AgentSpecError(
            f"agent {spec!r}: program {command[0]!r} is neither on PATH nor an executable file"
        )
    return command


def _command_hash(command: list[str]) -> str:
    """Return ``sha256:HEX`` of a command line, its program's file and its file arguments."""
    digest = hashlib.sha256(shlex.join(command).encode())
    program = shutil.which(command[0])
    for item in [program, *command[1:]]:
        if item and Path(item).is_file():
            digest.update(b"\0")
            digest.update(Path(item).read_bytes())
    return f"sha256:{digest.hexdigest()}"


def _module_file(module: str, spec: str) -> Path:
    """Return the source file of a dotted module, located without running any of it.

    The top-level package is found by the import system's finders (which locate, not
    run); the rest of the dotted path is looked up in its folders.
    """
    top, *rest = module.split(".")
    try:
        found = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        found = None
    if found is not None and not rest and found.origin and Path(found.origin).is_file():
        return Path(found.origin).resolve()
    for root in (found.submodule_search_locations or []) if found else []:
        base = Path(root).joinpath(*rest)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate.resolve()
    raise AgentSpecError(f"cannot find the source of module {module!r} (agent {spec!r})")


def _import_file(path: Path, spec: str) -> Any:
    """Import a Python file as a module (once per process), named after its path."""
    name = "portia_agent_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
    if name in sys.modules:
        return sys.modules[name]
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise AgentSpecError(f"cannot load {path} as Python (agent {spec!r})")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise AgentSpecError(
            f"importing agent file {path} failed: {type(error).__name__}: {error}"
        ) from error
    return module
