"""Training from the command line — the same runs the app launches, so a TA can prepare them on a GPU box.

    python -m core.train gan --loss wgan-gp --arch dcgan --steps 3000 --device auto --runs-dir runs
    python -m core.train gan --data-dir /data/mnist    # MNIST IDX files from there (else $ADVLAB_DATA_DIR, ./data)
    python -m core.train robust --mode fgsm_rs --eps 0.3 --epochs 10 --device auto
    python -m core.train gan --steps 500 --detach      # start in the background, print the run id
    python -m core.train list                          # every run with its status
    python -m core.train mnist --download --data-dir data   # fetch the full MNIST once (else: offline subset)
    python -m core.train cancel <run_id>
    python -m core.train run <run_dir>                 # execute a created run (what core.runs.launch spawns)

The flags of a kind come from its Config dataclass (field `lr_g` -> `--lr-g`); the app shows these runs too.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import sys
import types
import typing
from pathlib import Path
from typing import Any

from core import runs

# kind -> (module, Config class, train function); imported only when that kind is used.
TRAINERS: dict[str, tuple[str, str, str]] = {
    "gan": ("core.mnist.gan", "GanConfig", "train_gan"),
    "robust": ("core.mnist.robust", "RobustConfig", "train_robust"),
}


def trainers() -> dict[str, tuple[str, str, str]]:
    """TRAINERS plus extra ones from $ADVLAB_EXTRA_TRAINERS ('[kind=]module:Config:function', comma-separated).

    Without 'kind=', the kind is the function name minus 'train_' (tests use this for a tiny fake trainer).
    """
    out = dict(TRAINERS)
    for entry in filter(None, (e.strip() for e in os.environ.get("ADVLAB_EXTRA_TRAINERS", "").split(","))):
        kind, _, spec = entry.rpartition("=")
        parts = spec.split(":")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"ADVLAB_EXTRA_TRAINERS: expected 'module:Config:function', got {entry!r}")
        out[kind or parts[2].removeprefix("train_")] = (parts[0], parts[1], parts[2])
    return out


def trainer_for(kind: str) -> tuple[type, Any]:
    """(Config dataclass, train function) of a run kind; an unknown or missing trainer is a ValueError."""
    table = trainers()
    if kind not in table:
        raise ValueError(f"kind: unknown run kind {kind!r}; choose one of {', '.join(table)}")
    module_name, config_name, fn_name = table[kind]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            raise ValueError(f"kind: the {kind!r} trainer ({module_name}) is not available yet") from None
        raise
    return getattr(module, config_name), getattr(module, fn_name)


DATA_DIR_HELP = "folder with the MNIST IDX files (default: $ADVLAB_DATA_DIR or ./data)"


def config_fields(kind: str) -> set[str]:
    """Names of the fields of a kind's Config dataclass."""
    return {f.name for f in dataclasses.fields(trainer_for(kind)[0])}


# -- flags from a Config dataclass -----------------------------------------------------------------------
def _field_type(tp: Any) -> Any:
    """int / float / str / bool of an annotation (X | None -> X)."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        tp = args[0] if args else str
    if typing.get_origin(tp) is typing.Literal:
        tp = type(typing.get_args(tp)[0])
    return tp if tp in (int, float, str, bool) else str


def add_config_flags(parser: argparse.ArgumentParser, config_cls: type) -> None:
    """One --flag per Config field (lr_g -> --lr-g), typed from its annotation, defaulting to the field's default."""
    hints = typing.get_type_hints(config_cls)
    for f in dataclasses.fields(config_cls):
        if not f.init:
            continue
        tp = _field_type(hints.get(f.name, str))
        default = f.default if f.default is not dataclasses.MISSING else None
        if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", "") if f.metadata else ""
        help_text = f"{help_text} (default: {default})".strip()
        if tp is bool:
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=default,
                                help=help_text)  # fmt: skip
        else:
            parser.add_argument(flag, dest=f.name, type=tp, default=default, help=help_text, metavar=tp.__name__.upper())  # fmt: skip


def _print_runs(runs_dir: Path | None) -> None:
    rows = runs.list_runs(runs_dir)
    if not rows:
        print(f"no runs in {runs_dir or runs.default_runs_dir()}")
    for r in rows:
        progress = f"{r.step}/{r.total}" if r.total else "-"
        print(f"{r.run_id:36s} {r.status:10s} {progress:>12s} {r.device or '':8s} {r.error or ''}")


def main(argv: list[str] | None = None) -> int:
    """The CLI; returns the process exit code (0 done, 1 failed, 2 bad arguments, 130 cancelled)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    kinds = trainers()
    parser = argparse.ArgumentParser(prog="python -m core.train", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join([*kinds, "list", "cancel", "mnist", "run"]) + "}")  # fmt: skip
    p_run = sub.add_parser("run", help="execute an already-created run folder (what the app spawns)")
    p_run.add_argument("run_dir", type=Path)
    p_list = sub.add_parser("list", help="list the runs")
    p_list.add_argument("--runs-dir", type=Path, default=None)
    p_cancel = sub.add_parser("cancel", help="ask a run to stop")
    p_cancel.add_argument("run_id")
    p_cancel.add_argument("--runs-dir", type=Path, default=None)
    p_data = sub.add_parser("mnist", help="say which MNIST source the runs will use; --download fetches it")
    p_data.add_argument("--data-dir", type=Path, default=None, help=DATA_DIR_HELP)
    p_data.add_argument("--download", action="store_true", help="fetch the full MNIST via fetch_openml first")
    command = argv[0] if argv else None
    for kind in kinds:
        p = sub.add_parser(kind, help=f"train a new {kind!r} run in the foreground")
        p.add_argument("--runs-dir", type=Path, default=None, help="where run folders live (default: $ADVLAB_RUNS_DIR or ./runs)")  # fmt: skip
        p.add_argument(
            "--detach", action="store_true", help="start the run in the background and print its id"
        )
        p.add_argument("--quiet", action="store_true", help="no progress lines")
        if kind == command:  # import only the trainer that is asked for
            try:
                config_cls = trainer_for(kind)[0]
            except ValueError as err:
                parser.error(str(err))
            if "data_dir" not in {f.name for f in dataclasses.fields(config_cls)}:
                p.add_argument("--data-dir", type=Path, default=None, help=DATA_DIR_HELP)
            add_config_flags(p, config_cls)
    args = parser.parse_args(argv)

    try:
        if args.command == "run":
            outcome = runs.execute_run(args.run_dir, verbose=True)
        elif args.command == "list":
            _print_runs(args.runs_dir)
            return 0
        elif args.command == "mnist":
            from core.mnist.data import load_mnist

            data = load_mnist("auto", args.data_dir, download=args.download)
            print(f"{data.source}: {data.description}")
            return 0
        elif args.command == "cancel":
            runs.cancel(args.run_id, args.runs_dir)
            print(f"cancel requested for {args.run_id}")
            return 0
        else:
            own = config_fields(args.command)
            if getattr(args, "data_dir", None) is not None and "data_dir" not in own:
                # The data folder reaches the trainer (and a detached run) through the environment.
                os.environ["ADVLAB_DATA_DIR"] = str(args.data_dir.expanduser().resolve())
            skip = {"command", "runs_dir", "detach", "quiet"} | ({"data_dir"} - own)
            config = {k: v for k, v in vars(args).items() if k not in skip}
            if args.detach:
                print(runs.launch(args.command, config, args.runs_dir))
                return 0
            run_dir = runs.create_run(args.command, config, args.runs_dir)
            print(f"run {run_dir.name} in {run_dir} (queued until a slot is free)", flush=True)
            outcome = runs.execute_run(run_dir, verbose=not args.quiet)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return {"done": 0, "failed": 1, "cancelled": 130}.get(outcome, 1)


if __name__ == "__main__":
    sys.exit(main())
