"""The student labs (issue 6): building the notebooks, loading their exercises, grading a class.

- :mod:`.build` turns each ``solutions/source/NN_slug.py`` (a jupytext percent script) into
  ``labs/NN_slug.ipynb`` (exercises stubbed) and ``solutions/NN_slug.ipynb`` (complete):
  ``python -m itdeploy_lite.labs.build [--check]``.
- :mod:`.grading` loads a notebook's ``setup`` and ``exercise`` cells into a namespace for the grading
  tests in ``tests/grading/``.
- :mod:`.grade` grades a folder of student notebooks into one CSV: ``itdeploy grade SUBMISSIONS``.
"""

from itdeploy_lite.labs.grading import LabLoadError, ReferenceUnavailable, load_exercises

__all__ = ["LabLoadError", "ReferenceUnavailable", "load_exercises"]
