"""Scenario files: the runner that drives sessions through their steps, and the pytest plugin."""
