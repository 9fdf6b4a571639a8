"""The Portia leaderboard: a FastAPI service that ranks results files, and its client.

``portia leaderboard serve`` runs it (``leaderboard.app``); ``portia leaderboard token``
manages accounts; ``portia submit`` uploads a results file, or an ONNX policy that
``portia leaderboard worker`` evaluates on hidden seeds (the verified tier), and
``portia status`` follows its job. docs/leaderboard.md describes what is validated, how
entries are ranked, and the limits.
"""
