"""Read ROS 2 launch XML as data: the same files `ros2 launch` runs, interpreted for a subset.

Used twice: the tests check every launch file against the package (executables, parameter files,
declared parameters, topics), and `ltc-control bringup` starts the ltc_control nodes a launch file
names in one process on machines without the ROS 2 launch system.

Supported: <launch>, <arg name default description>, <let name value>, <set_env>, <include>,
<group>, <node pkg exec name namespace output args> with <param name value type> / <param from>,
and <remap from to>; `if`/`unless` conditions on <node>, <include> and <group>; substitutions
$(var), $(find-pkg-share), $(env NAME [default]), $(eval 'python expression') (evaluated with no
builtins, as launch's PythonExpression evaluates it without imports) and $(command '...') (kept
verbatim, never executed). Anything else is an error naming the tag or
attribute, so a typo fails a test instead of a robot's bringup.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ltc_control.errors import ConfigError, did_you_mean
from ltc_control.resources import old_layout_hint

# Tag -> allowed attributes, as the ROS 2 XML frontend (launch_xml / launch_ros) accepts them.
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "launch": {"version"},
    "arg": {"name", "default", "description", "choices", "value"},  # value: inside <include>
    "let": {"name", "value"},
    "set_env": {"name", "value"},
    "include": {"file", "if", "unless"},
    "group": {"if", "unless", "scoped", "forwarding"},
    "node": {
        "pkg",
        "exec",
        "name",
        "namespace",
        "output",
        "args",
        "respawn",
        "respawn_delay",
        "launch-prefix",
        "ros_args",
        "if",
        "unless",
        "exec_name",
    },
    "param": {"name", "value", "from", "sep", "value-sep"},
    "remap": {"from", "to"},
}
ALLOWED_CHILDREN: dict[str, set[str]] = {
    "launch": {"arg", "let", "set_env", "include", "node", "group"},
    "group": {"let", "set_env", "include", "node", "group"},
    "include": {"arg"},
    "node": {"param", "remap"},
}
_SUBSTITUTION = re.compile(r"\$\((\w[\w-]*)\s*([^()]*(?:\([^()]*\)[^()]*)*)\)")


@dataclass
class NodeLaunch:
    package: str
    executable: str
    name: str
    namespace: str = ""
    parameter_files: list[Path] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)  # name -> value as written
    remaps: dict[str, str] = field(default_factory=dict)
    arguments: list[str] = field(default_factory=list)  # the executable's own (`args`)


@dataclass
class LaunchFile:
    path: Path
    arguments: dict[str, str]  # name -> default ("" when none)
    descriptions: dict[str, str]
    nodes: list[NodeLaunch]
    includes: list[str]
    environment: dict[str, str]


def read_launch_file(
    path: Path,
    overrides: Mapping[str, str] | None = None,
    find_package_share: Callable[[str], Path] | None = None,
) -> LaunchFile:
    """Parse and resolve a launch file with the given argument overrides (name -> value)."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise ConfigError(f"{path}: cannot read launch XML: {exc}") from exc
    _validate(root, path)
    overrides = dict(overrides or {})
    known = [a.get("name") for a in root.findall("arg")]
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        hints = "".join(did_you_mean(name, known) for name in unknown)
        raise ConfigError(
            f"{path.name} has no launch argument {', '.join(unknown)}{hints}; "
            f"its arguments: {', '.join(known)}"
        )
    resolver = _Resolver(path, find_package_share or _default_share)
    result = LaunchFile(path, {}, {}, [], [], {})
    for element in root:
        _read_element(element, overrides, resolver, result)
    return result


def _read_element(
    element: ET.Element, overrides: dict[str, str], resolver: _Resolver, result: LaunchFile
) -> None:
    tag = element.tag
    if tag in ("node", "include", "group") and not _condition_holds(element, resolver):
        return
    if tag == "group":
        for child in element:
            _read_element(child, overrides, resolver, result)
    elif tag == "arg":
        name = element.get("name")
        default = element.get("default")
        if default is None and name not in overrides:
            raise ConfigError(f"{result.path}: argument '{name}' has no default and no value")
        result.arguments[name] = default or ""
        result.descriptions[name] = element.get("description", "")
        resolver.values[name] = overrides.get(name, resolver.resolve(default or ""))
    elif tag == "let":
        resolver.values[element.get("name")] = resolver.resolve(element.get("value"))
    elif tag == "set_env":
        result.environment[element.get("name")] = resolver.resolve(element.get("value"))
    elif tag == "include":
        result.includes.append(resolver.resolve(element.get("file")))
    elif tag == "node":
        result.nodes.append(_read_node(element, resolver))


def _read_node(element: ET.Element, resolver: _Resolver) -> NodeLaunch:
    node = NodeLaunch(
        package=resolver.resolve(element.get("pkg")),
        executable=resolver.resolve(element.get("exec")),
        name=resolver.resolve(element.get("name", "")),
        namespace=resolver.resolve(element.get("namespace", "")),
        arguments=resolver.resolve(element.get("args", "")).split(),
    )
    for child in element:
        if child.tag == "param" and child.get("from") is not None:
            node.parameter_files.append(_parameter_file(resolver.resolve(child.get("from"))))
        elif child.tag == "param":
            node.parameters[child.get("name")] = resolver.resolve(child.get("value", ""))
        elif child.tag == "remap":
            node.remaps[resolver.resolve(child.get("from"))] = resolver.resolve(child.get("to"))
    return node


def _parameter_file(text: str) -> Path:
    """A node's parameter file; a missing one is refused here (named with its new place if it
    is a path of the old config layout), not left for rcl to fail on in every node."""
    path = Path(text)
    if not text.startswith("<share of ") and not path.is_file():
        raise ConfigError(f"parameter file {path.absolute()} not found{old_layout_hint(path)}")
    return path


def _condition_holds(element: ET.Element, resolver: _Resolver) -> bool:
    """`if`/`unless`, read as launch reads them: true/1 or false/0 (any case), else an error."""
    for attribute, wanted in (("if", True), ("unless", False)):
        text = element.get(attribute)
        if text is None:
            continue
        value = resolver.resolve(text).strip().lower()
        if value not in ("true", "1", "false", "0"):
            raise ConfigError(
                f"{resolver.path}: <{element.tag} {attribute}> is {value!r}, not true or false"
            )
        if (value in ("true", "1")) != wanted:
            return False
    return True


def _validate(element: ET.Element, path: Path) -> None:
    allowed = ALLOWED_ATTRIBUTES.get(element.tag)
    if allowed is None:
        raise ConfigError(f"{path}: unknown launch tag <{element.tag}>")
    extra = set(element.attrib) - allowed
    if extra:
        raise ConfigError(f"{path}: <{element.tag}> does not take {sorted(extra)}")
    for child in element:
        if child.tag not in ALLOWED_CHILDREN.get(element.tag, set()):
            raise ConfigError(f"{path}: <{child.tag}> is not allowed inside <{element.tag}>")
        _validate(child, path)


class _Resolver:
    def __init__(self, path: Path, find_package_share: Callable[[str], Path]) -> None:
        self.path = path
        self.values: dict[str, str] = {}
        self._find_share = find_package_share

    def resolve(self, text: str | None) -> str:
        if text is None:
            return ""
        return _SUBSTITUTION.sub(self._substitute, text)

    def _substitute(self, match: re.Match[str]) -> str:
        kind, argument = match.group(1), match.group(2).strip()
        if "$(" in argument:
            argument = self.resolve(argument)  # inner substitutions first
        if kind == "var":
            if argument not in self.values:
                raise ConfigError(f"{self.path}: $(var {argument}) used before it is declared")
            return self.values[argument]
        if kind == "find-pkg-share":
            return str(self._find_share(argument))
        if kind == "env":
            name, _, default = argument.partition(" ")
            return os.environ.get(name, default.strip("'\""))
        if kind == "command":
            return f"<command {argument}>"
        if kind == "eval":
            return self._evaluate(argument)
        raise ConfigError(f"{self.path}: unknown substitution $({kind} ...)")

    def _evaluate(self, argument: str) -> str:
        quoted = len(argument) >= 2 and argument[0] == argument[-1] and argument[0] in "'\""
        expression = argument[1:-1] if quoted else argument
        try:
            return str(eval(expression, {"__builtins__": {}}, {}))  # as launch evaluates it
        except Exception as exc:
            raise ConfigError(f"{self.path}: $(eval {argument}) failed: {exc}") from exc


def _default_share(package: str) -> Path:
    from ltc_control.resources import PACKAGE, share_dir

    if package == PACKAGE:
        return share_dir()
    return Path(f"<share of {package}>")  # other packages are only named here, never read
