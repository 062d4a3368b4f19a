"""Comparing two runs line by line (``adjudicate diff``)."""
