"""Portia environments: one body plus one task family (or a draw of families) each."""
