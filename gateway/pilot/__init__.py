"""Comparison pilots: the same release scenario on every registry, reported side by side."""
