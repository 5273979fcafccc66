"""Argument types of the `ltc-control` subcommands: a value a user got wrong is refused while the
command line is parsed, in one line naming the argument, what it takes and (for names) the
closest known one, before anything heavy is imported or started."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from ltc_control.errors import did_you_mean


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (argparse prints the whole usage first) and defaults shown
    in every --help."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """`(default: x)` after every argument that has a default (not None, not a flag's False);
    descriptions and epilogs keep their line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str:
        default, text = action.default, action.help or ""
        if default is None or default is False or default in (argparse.SUPPRESS, []):
            return text
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        return f"{text} (default: {shown})"


def number_at_least(
    low: float, kind: Callable[[str], float] = float, strict: bool = False
) -> Callable[[str], float]:
    """An argparse type for finite numbers >= low (> low if `strict`) of `kind` (float, int)."""
    relation = ">" if strict else ">="

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if kind is int else 'a number'}, got {text!r}"
            ) from None
        if not math.isfinite(value) or value < low or (strict and value == low):
            what = "an integer" if kind is int else "a finite number"
            raise argparse.ArgumentTypeError(f"must be {what} {relation} {low:g}, got {text}")
        return value

    return parse


positive_int = number_at_least(1, int)
positive_float = number_at_least(0, float, strict=True)
non_negative_float = number_at_least(0, float)


def positive_int_list(text: str) -> tuple[int, ...]:
    """Comma-separated integers >= 1: "1,2,3" -> (1, 2, 3)."""
    items = tuple(item.strip() for item in text.split(","))
    return tuple(positive_int(item) for item in items)


def existing_file(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{path} does not exist")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{path} is not a file")
    return path


def new_file(text: str) -> Path:
    """A file to write, whose folder exists."""
    path = Path(text)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"folder {path.parent} does not exist (for {path})")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder, not a file")
    return path


def robot_name(text: str) -> str:
    """A robot shipped in config/<robot>/ (the name, e.g. panda)."""
    from ltc_control.robots.description import available_robots

    known = available_robots()
    if text not in known:
        raise argparse.ArgumentTypeError(
            f"unknown robot {text!r}{did_you_mean(text, known)}; known robots: {', '.join(known)}"
        )
    return text


def robot_name_or_yaml(text: str) -> str:
    """A shipped robot's name, or the path of a robot description YAML."""
    if text.endswith((".yaml", ".yml")):
        return str(existing_file(text))
    return robot_name(text)


def exit_with(program: str, message: str, code: int) -> int:
    """Print `program: message` as one line on stderr and return `code` (for main())."""
    one_line = " ".join(str(message).split())  # a message never spans lines
    print(f"{program}: {one_line}", file=sys.stderr)
    return code
