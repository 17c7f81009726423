"""The ``itdeploy`` command line.

    itdeploy generate DOMAIN (--size K=V[,K=V] | --split NAME) --count K --seed S --out DIR
    itdeploy solve DOMAIN PROBLEM [--optimal] [--timeout SECONDS]
    itdeploy validate DOMAIN PROBLEM PLAN [--json] [--strict]
    itdeploy validate --batch IN.jsonl --out OUT.jsonl [--root DIR]
    itdeploy demo [DOMAIN]          generate tasks, solve them with Fast Downward, validate the plans
    itdeploy run [--domain D] [--generations N] [--curation P] ...   the main job: iterative deployment
    itdeploy report RUN_DIR [--json]
    itdeploy ablate --policies paper,none,latest,longest,random-valid [run flags]   one plot, one line per preset
    itdeploy rl [run flags] [--rl-learning-rate LR] ...   the explicit RL baseline (GRPO-style REINFORCE)
    itdeploy pretrain [DOMAIN] ...  train the generation-0 embedded model
    itdeploy grade SUBMISSIONS [--out scores.csv]   grade a class's lab notebooks (labs/INSTRUCTORS.md)
    itdeploy labs release OUT                       the student release: stub notebooks and their data

Exit codes: 0 success (``validate``: plan valid), 1 a negative answer (``validate``: plan invalid;
``solve``: no plan), 2 bad input (missing file, malformed PDDL, bad arguments).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

BAD_INPUT = 2


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def _read_text(path: str, what: str) -> str:
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{what} not found: {p}")
    return p.read_text(encoding="utf-8", errors="replace")


# --- generate --------------------------------------------------------------------------------------
def cmd_generate(args) -> int:
    from itdeploy_lite.planning.generators import GENERATORS, generate_problems, make_split, parse_size, write_problems

    domain = args.domain.lower()
    if domain not in GENERATORS:
        raise UsageError(f"no generator for domain {args.domain!r} (have: {', '.join(sorted(GENERATORS))})")
    if (args.size is None) == (args.split is None):
        raise UsageError("give exactly one of --size K=V[,K=V] or --split NAME")
    try:
        if args.split is not None:
            problems = make_split(domain, args.split, args.count, args.seed)
        else:
            problems = generate_problems(domain, parse_size(args.size), args.count, args.seed)
    except (ValueError, KeyError) as err:
        raise UsageError(str(err)) from None
    paths = write_problems(problems, Path(args.out))
    for path in paths:
        print(path)
    print(f"wrote {len(paths)} problem(s) to {args.out}", file=sys.stderr)
    return 0


# --- solve -----------------------------------------------------------------------------------------
def cmd_solve(args) -> int:
    from itdeploy_lite.planning import domain_path
    from itdeploy_lite.planning.planner import solve

    _check_inputs(args.domain, args.problem)
    result = solve(domain_path(args.domain), args.problem, optimal=args.optimal, timeout=args.timeout)
    if result.status == "solved":
        print("\n".join(result.plan))
        print(f"; {result.status}: {len(result.plan)} step(s) in {result.seconds:.2f} s", file=sys.stderr)
        return 0
    print(f"{result.status}: {result.reason}", file=sys.stderr)
    return BAD_INPUT if result.status in ("not-installed", "error") else 1


# --- validate --------------------------------------------------------------------------------------
def _check_inputs(domain: str, problem: str) -> None:
    from itdeploy_lite.planning import domain_path

    try:
        domain_path(domain)
    except FileNotFoundError as err:
        raise UsageError(str(err)) from None
    if not Path(problem).is_file():
        raise UsageError(f"problem file not found: {problem}")


def cmd_validate(args) -> int:
    if args.batch:
        if not args.out:
            raise UsageError("--batch needs --out OUT.jsonl")
        return validate_batch(Path(args.batch), Path(args.out), Path(args.root) if args.root else None, args.strict)
    if not (args.domain and args.problem and args.plan):
        raise UsageError("validate needs DOMAIN PROBLEM PLAN (or --batch IN.jsonl --out OUT.jsonl)")
    from itdeploy_lite.planning import load_task, validate

    _check_inputs(args.domain, args.problem)
    plan_text = sys.stdin.read() if args.plan == "-" else _read_text(args.plan, "plan file")
    result = validate(load_task(args.domain, args.problem), plan_text, strict=args.strict)
    if args.json:
        print(json.dumps(result.to_dict()))
    elif result.valid:
        print(f"Plan valid ({result.plan_length} step(s))")
    else:
        print(f"Plan invalid: {result.reason}")
        if result.unsatisfied:
            print("unsatisfied precondition(s): " + " ".join(result.unsatisfied))
        if result.unmet_goals and result.failed_step is None:
            print("unmet goal(s): " + " ".join(result.unmet_goals))
    return 0 if result.valid else 1


def _resolve(value: str, base: Path) -> Path:
    path = Path(value)
    return path if path.is_absolute() else base / path


def validate_batch(inp: Path, out: Path, root: Path | None, strict: bool = False) -> int:
    """Validate every line of a JSONL file; see ``itdeploy validate --help``.

    Each input line is ``{"domain": name-or-path, "problem": path, "plan": text}``; relative paths
    are resolved against ``root`` (default: the input file's folder). Each output line is the input
    plus ``valid``, ``failed_step``, ``reason`` (and ``error`` when the line could not be read: then
    ``valid`` is ``null``). A task is grounded once and reused across lines. The output is written
    to ``OUT.tmp`` and renamed when complete, so an interrupted run leaves no half file.

    Returns:
        0 if every line was read, 2 if the input file is missing or some line had an error.
    """
    from itdeploy_lite.planning import BUILTIN_DOMAINS, PDDLError, load_task, validate

    if not inp.is_file():
        raise UsageError(f"batch input not found: {inp}")
    base = root if root is not None else inp.parent
    tasks: dict[tuple[str, str], object] = {}
    counts = {"valid": 0, "invalid": 0, "error": 0}
    from itdeploy_lite import atomic

    with inp.open(encoding="utf-8", errors="replace") as fin, atomic.open_atomic(out) as fout:
        for line_no, line in enumerate(fin, start=1):
            if not line.strip():
                continue
            record: dict = {}
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
                missing = [k for k in ("domain", "problem", "plan") if not isinstance(record.get(k), str)]
                if missing:
                    raise ValueError(f"missing or non-string key(s): {', '.join(missing)}")
                dom = record["domain"]
                dom_ref = dom if dom.lower() in BUILTIN_DOMAINS and not _resolve(dom, base).is_file() else str(_resolve(dom, base))
                key = (dom_ref, str(_resolve(record["problem"], base)))
                if key not in tasks:
                    tasks[key] = load_task(*key)
                result = validate(tasks[key], record["plan"], strict=strict)
                record.update(valid=result.valid, failed_step=result.failed_step, reason=result.reason)
                counts["valid" if result.valid else "invalid"] += 1
            except (ValueError, OSError, PDDLError) as err:  # JSONDecodeError is a ValueError
                record = record if isinstance(record, dict) else {}
                record.update(valid=None, failed_step=None, reason=None, error=f"{inp}:{line_no}: {err}")
                counts["error"] += 1
            fout.write(json.dumps(record) + "\n")
    print(f"{sum(counts.values())} line(s): {counts['valid']} valid, {counts['invalid']} invalid, {counts['error']} error(s) -> {out}", file=sys.stderr)
    return BAD_INPUT if counts["error"] else 0


# --- demo ------------------------------------------------------------------------------------------
def cmd_demo(args) -> int:
    from itdeploy_lite.planning import domain_path, load_task, validate
    from itdeploy_lite.planning.generators import make_split, write_problems
    from itdeploy_lite.planning.planner import solve

    out = Path(args.out)
    problems = make_split(args.domain, "heldout", args.count, args.seed)
    paths = write_problems(problems, out / args.domain)
    print(f"{'problem':40s} {'status':10s} {'steps':>5s} {'seconds':>8s}  verdict")
    for problem, path in zip(problems, paths):
        result = solve(domain_path(args.domain), path, timeout=args.timeout)
        verdict = "-"
        if result.plan is not None:
            verdict = "valid" if validate(load_task(args.domain, path), result.plan).valid else "INVALID"
        steps = len(result.plan) if result.plan else 0
        print(f"{problem.name:40s} {result.status:10s} {steps:5d} {result.seconds:8.2f}  {verdict}")
    return 0


# --- run / report / pretrain ----------------------------------------------------------------------
def cmd_run(args) -> int:
    from itdeploy_lite.config import RunConfig
    from itdeploy_lite.flags import config_from_args
    from itdeploy_lite.loop import run

    config = config_from_args(args, RunConfig)
    try:
        run(config)
    except ValueError as err:
        raise UsageError(str(err)) from None
    except KeyboardInterrupt:
        print(f"interrupted; re-run the same command to resume from the last finished stage ({config.run_dir()})",
              file=sys.stderr)
        return 130
    return 0


def cmd_report(args) -> int:
    from itdeploy_lite.report import load_metrics, summary, table, write_report

    try:
        rows = load_metrics(args.run_dir)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if args.json:
        print(json.dumps(summary(rows), indent=2))
    else:
        print(table(rows))
    if rows and not args.no_plots:
        write_report(args.run_dir)
    return 0


def cmd_pretrain(args) -> int:
    try:
        from itdeploy_lite import pretrain
    except ImportError:
        raise UsageError("itdeploy_lite.pretrain is not available in this installation") from None
    forwarded = list(args.rest)
    if args.domain:
        forwarded = ["--domain", args.domain, *forwarded]
    return pretrain.main(forwarded)


# --- ablate / rl (issue 5) ------------------------------------------------------------------------
def cmd_ablate(args) -> int:
    from itdeploy_lite.ablate import ablate, comparison_plot, comparison_table, solved_curves
    from itdeploy_lite.config import RunConfig
    from itdeploy_lite.flags import config_from_args

    config = config_from_args(args, RunConfig)
    out = Path(config.out or "runs/ablate")
    policies = [p.strip() for p in args.policies.split(",") if p.strip()]
    try:
        results = ablate(config, policies, out)
    except ValueError as err:
        raise UsageError(str(err)) from None
    curves = solved_curves(results)
    print(comparison_table(curves))
    print(f"plot: {comparison_plot(curves, out / f'ablation-s{config.seed}.png', 'curation ablations')}")
    return 0


def cmd_rl(args) -> int:
    from itdeploy_lite.flags import config_from_args
    from itdeploy_lite.rl import RLConfig, train, train_trl

    config = config_from_args(args, RLConfig)
    try:
        (train_trl if config.trl else train)(config)
    except ValueError as err:
        raise UsageError(str(err)) from None
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="itdeploy", description=__doc__.split("\n\n")[0])
    from itdeploy_lite.flags import config_parser_class, config_types

    sub = parser.add_subparsers(dest="command", required=True, parser_class=config_parser_class())

    p = sub.add_parser("generate", help="write seeded PDDL problems of a domain")
    p.add_argument("domain", help="a domain with a generator: blocksworld, rovers, sokoban, gripper, childsnack, ferry, floortile, miconic, satellite, spanner or transport")
    p.add_argument("--size", help="size parameters, e.g. blocks=5 or rovers=1,waypoints=4,cameras=1,objectives=2")
    p.add_argument("--split", help="a named split instead of --size: pretrain, train or heldout")
    p.add_argument("--count", type=int, default=10, help="problems (per size, with --split) (default 10)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("solve", help="solve a problem with Fast Downward (plan on stdout)")
    p.add_argument("domain", help="a built-in domain name or a domain file")
    p.add_argument("problem", help="problem file")
    p.add_argument("--optimal", action="store_true", help="astar(lmcut()) instead of lama-first")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")
    p.set_defaults(func=cmd_solve)

    p = sub.add_parser("validate", help="validate a plan (VAL semantics); exit 0 valid, 1 invalid, 2 bad input")
    p.add_argument("domain", nargs="?", help="a built-in domain name or a domain file")
    p.add_argument("problem", nargs="?", help="problem file")
    p.add_argument("plan", nargs="?", help="plan file ('-' reads standard input)")
    p.add_argument("--json", action="store_true", help="print valid, failed_step, reason, unsatisfied, unmet_goals as JSON")
    p.add_argument("--strict", action="store_true", help="accept only canonical '(action arg ...)' lines")
    p.add_argument("--batch", metavar="IN.jsonl", help='lines of {"domain", "problem", "plan"}')
    p.add_argument("--out", metavar="OUT.jsonl", help="with --batch: output file")
    p.add_argument("--root", help="with --batch: resolve relative paths here (default: the input file's folder)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("demo", help="generate held-out tasks, solve them with Fast Downward, validate the plans")
    p.add_argument("domain", nargs="?", default="blocksworld")
    p.add_argument("--count", type=int, default=2, help="problems per held-out size (default 2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per problem (default 60)")
    p.add_argument("--out", default="runs/demo", help="where problems are written (default runs/demo)")
    p.set_defaults(func=cmd_demo)

    from itdeploy_lite.config import RunConfig

    p = sub.add_parser("run", dataclass_types=config_types(RunConfig), help="the main job: deploy, validate, curate, fine-tune, for N generations (resumable)",
                       description="Iterative deployment on the embedded planner. Defaults: Blocksworld, 5 generations, "
                       "the paper's curation. Re-run the same command to resume an interrupted run.")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="print a run's per-generation table (and rewrite metrics.csv and plots)")
    p.add_argument("run_dir", help="a run folder (written by itdeploy run)")
    p.add_argument("--json", action="store_true", help="print a JSON list of per-generation summaries")
    p.add_argument("--no-plots", action="store_true", help="do not rewrite metrics.csv and the PNG plots")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("ablate", dataclass_types=config_types(RunConfig),
                       help="run several curation presets (each its own run folder under --out) and "
                       "plot held-out solved fraction per generation, one line per preset")
    p.add_argument("--policies", default="paper,none,latest,longest,random-valid",
                   help="comma-separated curation presets (default: paper,none,latest,longest,random-valid)")
    p.set_defaults(func=cmd_ablate)

    from itdeploy_lite.rl import RLConfig

    p = sub.add_parser("rl", dataclass_types=config_types(RLConfig),
                       help="explicit RL baseline: GRPO-style REINFORCE on the validator's reward, "
                       "same tasks, samples and evaluation as itdeploy run")
    p.set_defaults(func=cmd_rl)

    p = sub.add_parser("pretrain", help="train the generation-0 embedded model (options: itdeploy pretrain DOMAIN --help)",
                       add_help=False)
    p.add_argument("domain", nargs="?", help="any built-in domain (shipped: blocksworld, rovers, sokoban, ferry, miconic)")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="options passed to itdeploy_lite.pretrain")
    p.set_defaults(func=cmd_pretrain)

    # --- itdeploy grade (labs, issue 6): one CSV of per-test scores for a folder of student notebooks ---
    def cmd_grade(args) -> int:
        from itdeploy_lite.labs.grade import grade_folder

        scores = grade_folder(args.submissions, args.out, tests_dir=args.tests, timeout=args.timeout,
                              memory=int(args.memory * 2**30))
        print(f"graded {len({(s.student, s.lab) for s in scores})} notebooks of {len({s.student for s in scores})} "
              f"students: {sum(s.passed for s in scores)}/{len(scores)} tests passed; scores (one point per "
              f"exercise) in {args.out}")
        return 0

    p = sub.add_parser("grade", help="grade a folder of student lab notebooks (SUBMISSIONS/STUDENT/NN_slug.ipynb) "
                       "with tests/grading; write one CSV of per-test scores (see labs/INSTRUCTORS.md)")
    p.add_argument("submissions", help="folder of student notebooks: STUDENT/NN_slug.ipynb or STUDENT-NN_slug.ipynb")
    p.add_argument("--out", default="scores.csv", help="the CSV to write (default scores.csv)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds allowed per test (default 60)")
    p.add_argument("--memory", type=float, default=8.0,
                   help="GiB of address space allowed to one notebook's grading process (RLIMIT_AS; 0: no limit; default 8)")
    p.add_argument("--tests", default=None, help="folder of the grading tests (default: tests/grading of this checkout)")
    p.set_defaults(func=cmd_grade)

    # --- itdeploy labs release (issue 13): the student's copy of the labs, without solutions or tests ---
    def cmd_labs_release(args) -> int:
        from itdeploy_lite.labs.release import release

        written = release(args.out)
        print(f"wrote {len(written)} files to {args.out}: "
              + ", ".join(str(p.relative_to(args.out)) for p in written))
        return 0

    p = sub.add_parser("labs", help="the student labs: `itdeploy labs release OUT` writes the stub notebooks and "
                       "their data (no solutions, no grading tests)")
    labs = p.add_subparsers(dest="labs_command", required=True)
    q = labs.add_parser("release", help="write the student release of the labs into OUT (see labs/INSTRUCTORS.md)")
    q.add_argument("out", help="the folder to write (empty, or an earlier release)")
    q.set_defaults(func=cmd_labs_release)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``itdeploy`` console script. Returns the exit code."""
    from itdeploy_lite.llm.errors import LLMSetupError
    from itdeploy_lite.planning import PDDLError

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["pretrain"]:
        # Everything after `pretrain` belongs to itdeploy_lite.pretrain's own parser (argparse's
        # REMAINDER cannot forward options that come first, e.g. `itdeploy pretrain --domain rovers`).
        args = argparse.Namespace(command="pretrain", func=cmd_pretrain, domain=None, rest=argv[1:])
        if args.rest and not args.rest[0].startswith("-"):
            args.domain, args.rest = args.rest[0], args.rest[1:]
    else:
        args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, FileNotFoundError, PDDLError, LLMSetupError) as err:
        print(f"itdeploy {args.command}: error: {err}", file=sys.stderr)
        return BAD_INPUT
    except BrokenPipeError:  # e.g. `itdeploy solve ... | head -3`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
