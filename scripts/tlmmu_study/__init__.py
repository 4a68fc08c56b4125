"""Shared code of scripts/sweep and scripts/plot: sweep files, runs, engines, results, plots."""
