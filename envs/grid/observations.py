"""Observation spaces of GridNav and the numpy tile-cache pixel renderer.

Pixels are drawn with numpy only (no pygame), so frames are the same with or without a
display. As in Minigrid, each cell type is drawn once per tile size into a cache
(:func:`tile_images`); a :class:`PixelRenderer` then precomputes, for every output
pixel, which cell it shows and which pixel of that cell's tile (nearest-neighbour
index maps), so drawing a whole grid is one gather and moving the agent repaints two
cells. The same renderer makes observations (e.g. 64x64) and ``rgb_array`` frames
(32 px tiles).

Examples
--------
>>> renderer = PixelRenderer(2, 3, 32, 48)  # 2x3 cells into 32x48 pixels
>>> frame = renderer.draw(np.array([FLOOR, WALL, GOAL, AGENT, FLOOR, FLOOR], dtype=np.uint8))
>>> frame.shape, frame.dtype
((32, 48, 3), dtype('uint8'))
>>> frame[5, 20].tolist() == COLORS[WALL]
True
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from envs.base import MIN_PIXELS as MIN_PIXELS  # re-exported: it lived here
from envs.base import pixel_shape

if TYPE_CHECKING:
    from envs.grid.episode import Episode

__all__ = [
    "AGENT",
    "AGENT_ON_GOAL",
    "COLORS",
    "FLOOR",
    "GOAL",
    "OBS_MODES",
    "PATH",
    "VIEWS",
    "WALL",
    "PixelRenderer",
    "check_pixel_shape",
    "draw_frame",
    "frame_renderer",
    "make_observation_space",
    "tile_images",
]

#: Observation modes accepted by ``obs=``.
OBS_MODES = ("index", "coords", "symbolic", "pixels")
#: Pixel views accepted by ``view=``.
VIEWS = ("full", "agent")

# Cell types: indices into the tile cache.
FLOOR, WALL, GOAL, AGENT, AGENT_ON_GOAL, PATH = range(6)
N_TYPES = 6
#: RGB of each cell type's main colour.
COLORS: dict[int, list[int]] = {
    FLOOR: [236, 236, 236],
    WALL: [64, 64, 72],
    GOAL: [76, 175, 80],
    AGENT: [229, 57, 53],
    PATH: [30, 136, 229],
}
_GRID_LINE = [200, 200, 200]

UInt8Array = npt.NDArray[np.uint8]
IntArray = npt.NDArray[np.intp]


@lru_cache(maxsize=16)
def tile_images(tile_size: int) -> UInt8Array:
    """The tile of every cell type at ``tile_size`` pixels: shape ``(6, t, t, 3)``, read-only.

    Floor is light grey with a one-pixel grid line (tiles of 8 px or more), walls dark,
    the goal green; the agent is a red disc (on floor or on the goal), a planned-path
    cell a small blue dot. Below 4 px the agent and path fill their tile.
    """
    t = tile_size
    tiles = np.empty((N_TYPES, t, t, 3), dtype=np.uint8)
    floor = np.empty((t, t, 3), dtype=np.uint8)
    floor[:] = COLORS[FLOOR]
    goal = np.empty_like(floor)
    goal[:] = COLORS[GOAL]
    if t >= 8:
        floor[-1, :] = floor[:, -1] = _GRID_LINE
        goal[-1, :] = goal[:, -1] = _GRID_LINE
    centre = (t - 1) / 2
    yy, xx = np.mgrid[0:t, 0:t]
    radius2 = (yy - centre) ** 2 + (xx - centre) ** 2
    agent_disc = radius2 <= (0.38 * t) ** 2 if t >= 4 else np.ones((t, t), dtype=bool)
    path_dot = radius2 <= max(0.15 * t, 0.5) ** 2 if t >= 4 else np.ones((t, t), dtype=bool)
    tiles[FLOOR] = floor
    tiles[WALL] = COLORS[WALL]
    tiles[GOAL] = goal
    tiles[AGENT] = floor
    tiles[AGENT][agent_disc] = COLORS[AGENT]
    tiles[AGENT_ON_GOAL] = goal
    tiles[AGENT_ON_GOAL][agent_disc] = COLORS[AGENT]
    tiles[PATH] = floor
    tiles[PATH][path_dot] = COLORS[PATH]
    tiles.flags.writeable = False
    return tiles


def _axis_map(pixels: int, cells: int, tile: int) -> tuple[IntArray, IntArray]:
    """Cell and in-tile offset shown by each of ``pixels`` samples along one axis.

    Nearest neighbour at pixel centres, in integers so no rounding can differ:
    ``u = (p + 1/2) * cells / pixels``; cell ``floor(u)``, offset ``floor(frac(u) * tile)``.
    """
    num = (2 * np.arange(pixels, dtype=np.intp) + 1) * cells
    cell, rem = np.divmod(num, 2 * pixels)
    return cell, rem * tile // (2 * pixels)


class PixelRenderer:
    """Draws a grid of cell types into ``height`` x ``width`` RGB images.

    Parameters
    ----------
    rows, cols : int
        Grid size in cells; at most ``height`` and ``width`` (every cell gets a pixel).
    height, width : int
        Image size in pixels. When they are multiples of the grid size every cell is a
        whole tile; otherwise tiles of ``ceil(pixels / cells)`` are sampled nearest-
        neighbour, so cells differ by at most one pixel in size.
    """

    def __init__(self, rows: int, cols: int, height: int, width: int) -> None:
        if rows > height or cols > width:
            raise ValueError(
                f"a {rows}x{cols} grid needs at least {rows}x{cols} pixels, got {height}x{width}"
            )
        self.rows, self.cols = rows, cols
        self.height, self.width = height, width
        self.tile_size = max(-(-height // rows), -(-width // cols))
        cell_r, off_r = _axis_map(height, rows, self.tile_size)
        cell_c, off_c = _axis_map(width, cols, self.tile_size)
        tiles = tile_images(self.tile_size)
        n_pixels = height * width
        # What every pixel shows if its cell had each type: one gather draws a grid.
        self._type_pixels = tiles[:, off_r[:, None], off_c[None, :]].reshape(-1, 3)
        self._n_pixels = n_pixels
        self._pixel_ids = np.arange(n_pixels, dtype=np.intp)
        self._cell_of_pixel = (cell_r[:, None] * cols + cell_c[None, :]).ravel()
        # Each cell's pixels, padded by repeating its first pixel (a harmless rewrite).
        order = np.argsort(self._cell_of_pixel, kind="stable")
        counts = np.bincount(self._cell_of_pixel, minlength=rows * cols)
        first = np.concatenate(([0], np.cumsum(counts)[:-1]))
        width_max = int(counts.max())
        slot = np.minimum(np.arange(width_max)[None, :], counts[:, None] - 1)
        self.cell_pixels: IntArray = order[first[:, None] + slot]

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(height, width, 3)``."""
        return (self.height, self.width, 3)

    def draw(self, types: npt.NDArray[np.integer]) -> UInt8Array:
        """Images of flat cell-type grids: ``(..., rows * cols)`` -> ``(..., H, W, 3)``."""
        index = types[..., self._cell_of_pixel].astype(np.intp) * self._n_pixels
        index += self._pixel_ids
        return self._type_pixels[index].reshape(*types.shape[:-1], *self.shape)

    def paint(self, flat_image: UInt8Array, cell: int, cell_type: int) -> None:
        """Redraw one cell of an image viewed as ``(H * W, 3)``, in place."""
        block = self.cell_pixels[cell]
        flat_image[block] = self._type_pixels[cell_type * self._n_pixels + block]

    def paint_batch(
        self, flat_images: UInt8Array, envs: IntArray, cells: IntArray, cell_type: int
    ) -> None:
        """Redraw ``cells[i]`` of image ``envs[i]`` in a ``(N, H * W, 3)`` batch, in place."""
        blocks = self.cell_pixels[cells]
        flat_images[envs[:, None], blocks] = self._type_pixels[cell_type * self._n_pixels + blocks]


def check_pixel_shape(pixel_size: int | tuple[int, int]) -> tuple[int, int]:
    """``(height, width)`` from ``pixel_size`` (:func:`envs.base.pixel_shape`).

    Examples
    --------
    >>> check_pixel_shape(64), check_pixel_shape((48, 64))
    ((64, 64), (48, 64))
    """
    return pixel_shape(pixel_size, "pixel_size")


def make_observation_space(
    obs: str, rows: int, cols: int, pixel_shape: tuple[int, int]
) -> spaces.Space[object]:
    """The observation space of one GridNav environment for mode ``obs``.

    Examples
    --------
    >>> make_observation_space("coords", 5, 7, (64, 64))
    Box(0, [4 6 4 6], (4,), int64)
    >>> make_observation_space("symbolic", 5, 7, (64, 64)).shape
    (3, 5, 7)
    """
    if obs == "index":
        return spaces.Discrete(rows * cols)
    if obs == "coords":
        high = np.array([rows - 1, cols - 1, rows - 1, cols - 1], dtype=np.int64)
        return spaces.Box(0, high, shape=(4,), dtype=np.int64)
    if obs == "symbolic":
        return spaces.Box(0, 1, shape=(3, rows, cols), dtype=np.uint8)
    if obs == "pixels":
        return spaces.Box(0, 255, shape=(*pixel_shape, 3), dtype=np.uint8)
    raise ValueError(f"obs must be one of {list(OBS_MODES)}, got {obs!r}")


def frame_renderer(rows: int, cols: int, tile_size: int) -> PixelRenderer:
    """The renderer of ``rgb_array`` frames: ``tile_size`` pixels per cell, no resampling."""
    return PixelRenderer(rows, cols, rows * tile_size, cols * tile_size)


def draw_frame(
    renderer: PixelRenderer,
    episode: Episode,
    agent: int,
    *,
    path: bool,
    connectivity: Literal[4, 8],
) -> UInt8Array:
    """The frame of ``episode`` with the agent on flat cell ``agent``.

    With ``path`` the planner's path from the agent to the goal is overlaid (blue dots).
    """
    cols = episode.grid.shape[1]
    types = np.where(episode.grid.occupancy.ravel(), WALL, FLOOR).astype(np.uint8)
    types[episode.goal] = GOAL
    if path and agent != episode.goal:
        plan = episode.grid.plan(
            divmod(agent, cols),
            divmod(episode.goal, cols),
            connectivity=connectivity,
        )
        for r, c in plan.path[1:-1]:
            types[r * cols + c] = PATH
    types[agent] = AGENT_ON_GOAL if agent == episode.goal else AGENT
    return renderer.draw(types)
