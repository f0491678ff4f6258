"""The one exception type of ntkit."""

from __future__ import annotations

__all__ = ["NTKitError"]


class NTKitError(ValueError):
    """Bad input or a failure reported by the engine.

    The message is the one line the ``ntk`` command-line tool prints for the same
    problem: it names the argument or file, what was expected and what was found.
    """
