"""The C part of the parser, ``dwnscraper.parsing._walk``, built from Cython against lxml's public C API.

Everything else about the package is in ``pyproject.toml``.
"""

import lxml
from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [Extension("dwnscraper.parsing._walk", ["dwnscraper/parsing/_walk.pyx"], include_dirs=lxml.get_include())],
        compiler_directives={"language_level": 3},
    )
)
