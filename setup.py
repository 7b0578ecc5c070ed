"""Build the optional compiled A* of planners.GridMap (all metadata is in pyproject.toml).

``optional=True``: where no C compiler is available the install still succeeds and
GridMap.plan falls back to scipy's compiled Dijkstra (same results, slower).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "planners._gridsearch",
            sources=["planners/_gridsearch.c"],
            extra_compile_args=["-O3"],
            optional=True,
        )
    ]
)
