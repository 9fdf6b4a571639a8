"""Reference agents for Portia: teacher, behaviour cloning, Decision Transformer, PPO (planned)."""
