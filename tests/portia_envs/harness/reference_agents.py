"""The reference agents of portia_envs/agent_examples as commands; the C one compiled here."""

import shlex
import subprocess
import sys
from pathlib import Path

import portia_envs.agent_examples

EXAMPLES = Path(portia_envs.agent_examples.__file__).parent
LANGUAGES = ("c", "node", "python")


def compile_c_agent(folder):
    """Compile reach_agent.c as the documentation says; return the program's path."""
    program = Path(folder) / "reach_agent"
    subprocess.run(
        ["cc", "-O2", "-o", str(program), str(EXAMPLES / "reach_agent.c"), "-lm"],
        check=True,
        capture_output=True,
    )
    return program


def command(language, c_program):
    """The command line that runs the reference agent in ``language``."""
    return {
        "c": [str(c_program)],
        "node": ["node", str(EXAMPLES / "reach_agent.js")],
        "python": [sys.executable, str(EXAMPLES / "reach_agent.py")],
    }[language]


def exec_spec(language, c_program):
    """The ``exec:`` agent spec of the reference agent in ``language``."""
    return "exec:" + shlex.join(command(language, c_program))
