"""Learning curves of training kinds: episode returns averaged over windows of the budget."""

from __future__ import annotations

__all__ = ["LearningCurve"]


class LearningCurve:
    """Training episodes averaged over ``points`` equal windows of the step budget.

    A point per window in which at least one episode ended: its last step, and the mean
    return and length of the episodes that ended in it. Curves of several seeds share
    their steps, so they can be averaged.

    Examples
    --------
    >>> curve = LearningCurve(total_steps=100, points=2)
    >>> for steps, ret in [(20, 0.0), (40, 1.0), (90, 1.0)]:
    ...     curve.add(steps, ret, 20)
    >>> curve.points()
    [{'step': 50, 'episode_return': 0.5, 'episode_length': 20.0, 'episodes': 2},
     {'step': 100, 'episode_return': 1.0, 'episode_length': 20.0, 'episodes': 1}]
    """

    def __init__(self, total_steps: int, points: int = 20) -> None:
        self.total_steps = total_steps
        self.n_points = max(1, min(points, total_steps))
        self._sums: dict[int, list[float]] = {}

    def add(self, steps: int, episode_return: float, episode_length: int) -> None:
        """Count an episode that ended after ``steps`` training steps."""
        window = min(self.n_points - 1, (steps - 1) * self.n_points // self.total_steps)
        sums = self._sums.setdefault(window, [0.0, 0.0, 0.0])
        sums[0] += episode_return
        sums[1] += episode_length
        sums[2] += 1

    def points(self) -> list[dict[str, float]]:
        """The curve, one dict per window that saw an episode end."""
        out: list[dict[str, float]] = []
        for window in sorted(self._sums):
            total_return, total_length, count = self._sums[window]
            step = (window + 1) * self.total_steps // self.n_points
            out.append(
                {
                    "step": step,
                    "episode_return": total_return / count,
                    "episode_length": total_length / count,
                    "episodes": int(count),
                }
            )
        return out
