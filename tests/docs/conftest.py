"""Fixtures for the README and docs checks: none yet."""
