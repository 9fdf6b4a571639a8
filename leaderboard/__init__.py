"""The Portia leaderboard service: API, database, web page and client (planned)."""
