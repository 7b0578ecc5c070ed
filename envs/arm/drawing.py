"""Numpy rasteriser of ArmReach scenes: obstacles, goal, planned path and the arm.

Frames are drawn with numpy only (no pygame, no anti-aliasing), so observations and
``rgb_array`` frames are the same with or without a display. A :class:`SceneView`
maps the plane onto a pixel grid (``y`` up); every shape is filled by testing the
centres of the pixels in its bounding box: discs and boxes directly, thick line
segments by the distance from each pixel centre to the segment. The parts that stay
put during an episode (background, reach, obstacles, goal, path) are drawn once
(:meth:`SceneView.background`); a step copies them and draws the arm on top.

Examples
--------
>>> from planners import Circle
>>> view = SceneView((32, 32), extent=1.0)
>>> image = view.background(1.0, [Circle((0.5, 0.0), 0.2)], goal=(-0.5, 0.5), goal_radius=0.1)
>>> view.draw_arm(image, np.array([[0.0, 0.0], [0.0, -0.8]]))
>>> image.shape, image.dtype
((32, 32, 3), dtype('uint8'))
>>> image[16, 24].tolist() == COLORS["obstacle"], image[8, 8].tolist() == COLORS["goal"]
(True, True)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from planners import Box, Circle, Obstacle

__all__ = ["COLORS", "SceneView"]

UInt8Array = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float64]
#: A point ``(x, y)``.
Point = Sequence[float] | FloatArray

#: RGB of each part of a scene.
COLORS: dict[str, list[int]] = {
    "background": [250, 250, 250],
    "reach": [232, 234, 240],
    "obstacle": [64, 64, 72],
    "goal": [76, 175, 80],
    "path": [255, 152, 0],
    "link": [30, 136, 229],
    "joint": [33, 33, 33],
    "effector": [229, 57, 53],
}
_RGB = {name: np.array(rgb, dtype=np.uint8) for name, rgb in COLORS.items()}


class SceneView:
    """A square window ``[-extent, extent]^2`` around ``center`` drawn on ``shape`` pixels.

    Parameters
    ----------
    shape : (int, int)
        ``(height, width)`` in pixels; the plane keeps its aspect ratio (the shorter
        side spans ``2 * extent``).
    extent : float
        Half the side of the shown square, in world units.
    center : (float, float), default (0.0, 0.0)
        World point at the middle of the image.

    Attributes
    ----------
    scale : float
        Pixels per world unit.
    link_half_width : float
        Half the drawn thickness of a link, in world units: 2% of ``extent``, and at
        least one pixel, so links show at 16 pixels too.
    """

    def __init__(
        self, shape: tuple[int, int], extent: float, center: tuple[float, float] = (0.0, 0.0)
    ) -> None:
        self.height, self.width = shape
        self.scale = min(self.height, self.width) / (2.0 * extent)
        self.center = center
        #: World coordinates of the pixel centres: x per column, y per row (y points up).
        columns = np.arange(self.width, dtype=np.float64) + (0.5 - self.width / 2)
        rows = np.arange(self.height, dtype=np.float64) + (0.5 - self.height / 2)
        self.xs: FloatArray = columns / self.scale + center[0]
        self.ys: FloatArray = rows / -self.scale + center[1]
        self.link_half_width = max(0.02 * extent, 1.0 / self.scale)

    def _window(
        self, xmin: float, xmax: float, ymin: float, ymax: float
    ) -> tuple[slice, slice] | None:
        """Rows and columns whose pixel centres may lie in the box; ``None`` if none."""
        c0 = int(np.floor((xmin - self.center[0]) * self.scale + self.width / 2 - 0.5))
        c1 = int(np.ceil((xmax - self.center[0]) * self.scale + self.width / 2 - 0.5)) + 1
        r0 = int(np.floor((self.center[1] - ymax) * self.scale + self.height / 2 - 0.5))
        r1 = int(np.ceil((self.center[1] - ymin) * self.scale + self.height / 2 - 0.5)) + 1
        c0, c1 = max(c0, 0), min(c1, self.width)
        r0, r1 = max(r0, 0), min(r1, self.height)
        if c0 >= c1 or r0 >= r1:
            return None
        return slice(r0, r1), slice(c0, c1)

    def fill_disc(self, image: UInt8Array, center: Point, radius: float, color: str) -> None:
        """Paint the pixels whose centres lie in a disc, in place."""
        cx, cy = float(center[0]), float(center[1])
        window = self._window(cx - radius, cx + radius, cy - radius, cy + radius)
        if window is None:
            return
        rows, cols = window
        dx2 = (self.xs[cols] - cx) ** 2
        dy2 = (self.ys[rows] - cy) ** 2
        image[rows, cols][dy2[:, None] + dx2[None, :] <= radius * radius] = _RGB[color]

    def fill_box(self, image: UInt8Array, lo: Point, hi: Point, color: str) -> None:
        """Paint the pixels whose centres lie in an axis-aligned box, in place."""
        window = self._window(lo[0], hi[0], lo[1], hi[1])
        if window is None:
            return
        rows, cols = window
        in_x = (self.xs[cols] >= lo[0]) & (self.xs[cols] <= hi[0])
        in_y = (self.ys[rows] >= lo[1]) & (self.ys[rows] <= hi[1])
        image[rows, cols][in_y[:, None] & in_x[None, :]] = _RGB[color]

    def draw_segment(
        self,
        image: UInt8Array,
        a: Point,
        b: Point,
        half_width: float,
        color: str,
    ) -> None:
        """Paint the pixels within ``half_width`` of the segment ``a``-``b``, in place."""
        ax, ay, bx, by = float(a[0]), float(a[1]), float(b[0]), float(b[1])
        w = half_width
        window = self._window(min(ax, bx) - w, max(ax, bx) + w, min(ay, by) - w, max(ay, by) + w)
        if window is None:
            return
        rows, cols = window
        dx, dy = bx - ax, by - ay
        px = (self.xs[cols] - ax)[None, :]
        py = (self.ys[rows] - ay)[:, None]
        length2 = dx * dx + dy * dy
        t = np.clip((px * dx + py * dy) / length2, 0.0, 1.0) if length2 > 0 else 0.0
        near = (px - t * dx) ** 2 + (py - t * dy) ** 2 <= w * w
        image[rows, cols][near] = _RGB[color]

    def background(
        self,
        reach: float,
        obstacles: Iterable[Obstacle],
        goal: Point,
        goal_radius: float,
        path: FloatArray | None = None,
        base: Point = (0.0, 0.0),
    ) -> UInt8Array:
        """The still part of a frame: reachable disc, obstacles, goal and optional path.

        Parameters
        ----------
        reach : float
            Radius of the light disc the end effector can reach.
        obstacles : iterable of Circle or Box
            Drawn dark.
        goal : (float, float)
            Centre of the green goal disc.
        goal_radius : float
            Its radius (the success radius), at least 1.5 pixels.
        path : ndarray, shape (k, 2), optional
            End-effector trace drawn as an orange polyline.
        base : (float, float), default (0.0, 0.0)
            Centre of the reachable disc.

        Returns
        -------
        ndarray of uint8, shape (height, width, 3)
        """
        image = np.empty((self.height, self.width, 3), dtype=np.uint8)
        image[:] = _RGB["background"]
        self.fill_disc(image, base, reach, "reach")
        for obstacle in obstacles:
            if isinstance(obstacle, Circle):
                self.fill_disc(image, obstacle.center, obstacle.radius, "obstacle")
            elif isinstance(obstacle, Box):
                self.fill_box(image, obstacle.lo, obstacle.hi, "obstacle")
        self.fill_disc(image, goal, max(goal_radius, 1.5 / self.scale), "goal")
        if path is not None:
            half = max(0.35 * self.link_half_width, 0.5 / self.scale)
            for a, b in itertools.pairwise(path):
                self.draw_segment(image, a, b, half, "path")
        return image

    def draw_arm(self, image: UInt8Array, points: FloatArray) -> None:
        """Draw an arm given by its joint positions ``(n + 1, 2)`` (base first), in place.

        Links are thick blue segments, joints dark discs, the end effector a red disc.
        """
        w = self.link_half_width
        for a, b in itertools.pairwise(points):
            self.draw_segment(image, a, b, w, "link")
        for joint in points[:-1]:
            self.fill_disc(image, joint, 1.6 * w, "joint")
        self.fill_disc(image, points[-1], 1.8 * w, "effector")
