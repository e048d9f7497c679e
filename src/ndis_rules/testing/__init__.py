"""Test support shipped for integrators (extra ``ndis-rules[testing]``): the scenario runner,
adapter contract suites and Hypothesis strategies."""
