"""The scoring harness: run agents over suites, record episodes, compute scores."""
