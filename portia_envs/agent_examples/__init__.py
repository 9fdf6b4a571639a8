"""Reference agents that speak the agent protocol: one controller in Python, C and Node.js.

``reach_controller`` is the controller (pattern search through ``imagine``) and the agent
factory that runs it inside the harness; ``reach_agent.py`` (on ``portia_envs.agent_kit``),
``reach_agent.c`` and ``reach_agent.js`` are the same controller as programs of their own,
run with ``portia bench --agent "exec:..."``. All three play the same episodes.
"""
