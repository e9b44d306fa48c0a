"""``srcgrad show package.module:function [--argnums 0,1] [--mode grad|vjp|jvp|hvp]``:
print generated code."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any

__all__ = ["main"]


def _load(target: str) -> Any:
    if ":" not in target:
        raise SystemExit(f"srcgrad: expected module:function, got {target!r}")
    module_name, _, attr = target.partition(":")
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise SystemExit(f"srcgrad: cannot import {module_name!r}: {exc}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise SystemExit(f"srcgrad: {module_name!r} has no attribute {attr!r}") from None
    return getattr(obj, "fun", obj)


def _argnums(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        message = f"argnums must be integers like 0,1 (got {text!r})"
        raise argparse.ArgumentTypeError(message) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="srcgrad", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print the code srcgrad generates for a function")
    show.add_argument("target", help="package.module:function")
    show.add_argument("--argnums", type=_argnums, default=(0,),
                      help="comma-separated positions of the differentiated arguments")
    show.add_argument("--mode", choices=("grad", "vjp", "jvp", "hvp"), default="grad",
                      help="the whole gradient (grad), the split forward/pullback (vjp), the "
                           "tangent code (jvp) or the tangent code of the gradient (hvp)")
    args = parser.parse_args(argv)
    if args.command == "show":
        from .api import grad, jvp_source
        from .compiler import compile_grad, compile_vjp
        from .errors import TransformError

        fun = _load(args.target)
        try:
            if args.mode == "jvp":
                source = jvp_source(fun, args.argnums)
            elif args.mode == "hvp":
                source = jvp_source(grad(fun, args.argnums, engine="source"), args.argnums)
            else:
                compiler = compile_grad if args.mode == "grad" else compile_vjp
                source = compiler(fun, args.argnums).source
        except TransformError as exc:
            print(f"srcgrad: {exc}", file=sys.stderr)
            return 1
        sys.stdout.write(source)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
