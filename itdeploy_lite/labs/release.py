"""Write a student release of the labs: the stub notebooks and the data they read, nothing else.

    itdeploy labs release OUT/

``OUT`` gets ``NN_slug.ipynb`` (the exercises stubbed, from a fresh build of ``solutions/source``), a
``README.md`` for students, and ``data/`` with the result files the notebooks read when no run of the
student's own is at hand (``benchmarks/results/fidelity.json`` and ``collapse.png``). It holds no
``solutions/``, no lab source and no grading test (the tests compare with reference implementations, so
they stay with the instructor; students check their work with the visible cell after each exercise).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from itdeploy_lite.labs.build import BuildError, build_notebooks, notebook_text

_ROOT = Path(__file__).resolve().parents[2]

#: Files the notebooks read, relative to the repository root -> their place in the release.
DATA = {"benchmarks/results/fidelity.json": "data/fidelity.json", "benchmarks/results/collapse.png": "data/collapse.png"}

STUDENT_README = """\
# Labs: Iterative Deployment Improves Planning Skills in LLMs

Eight notebooks, one idea each (Corrêa et al., arXiv 2512.24940). Open them in order, in JupyterLab with
`itdeploy_lite` installed, or on Colab (the first cell installs the package and VAL, then tells you whether to
restart the runtime). In each lab you write a few small functions: read the docstring, replace
`raise NotImplementedError` with your code, and run the cell after it, which checks your function visibly.
Keep your functions in the cells tagged `exercise` and do not rename them: your instructor grades those
cells, with the package's own answers to the exercises switched off.

`data/` holds the results of the default runs that labs 06 and 08 read when you have no run of your own.
"""


def release(out: str | Path, root: str | Path = _ROOT) -> list[Path]:
    """Write the student release into ``out`` (created; an existing release there is replaced).

    Args:
        out: the folder to write.
        root: the repository (its ``solutions/source`` and ``benchmarks/results``).

    Returns:
        The files written, sorted.

    Raises:
        BuildError: no lab sources, or a source the build rejects.
        FileExistsError: ``out`` exists and is not a release written by this function (it has no
            ``.itdeploy-release`` marker), so nothing of someone's is overwritten.
    """
    out, root = Path(out), Path(root)
    sources = sorted((root / "solutions" / "source").glob("[0-9][0-9]_*.py"))
    if not sources:
        raise BuildError(f"no lab sources in {root / 'solutions' / 'source'}")
    if out.exists() and any(out.iterdir()) and not (out / ".itdeploy-release").is_file():
        raise FileExistsError(f"release: {out} exists and is not a labs release; choose an empty folder")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / ".itdeploy-release").write_text("written by itdeploy labs release\n")
    written = [out / "README.md"]
    written[0].write_text(STUDENT_README, encoding="utf-8")
    for source in sources:
        stub, _ = build_notebooks(source)
        path = out / f"{source.stem}.ipynb"
        path.write_text(notebook_text(stub), encoding="utf-8")
        written.append(path)
    for relative, target in DATA.items():
        if (root / relative).is_file():
            (out / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / relative, out / target)
            written.append(out / target)
    return sorted(written)
