#!/usr/bin/python3
"""Runs the onnx package's full checker over exported ONNX files.

Usage: /usr/bin/python3 check_onnx.py FILE_OR_FOLDER [...]
A folder means every *.onnx file in it. Each file is checked with
onnx.checker.check_model(path, full_check=True) (structure, opset and IR version,
then strict shape inference). Prints one line per file; exits 1 if any fails.
Needs Debian's python3-onnx (onnx 1.12, which knows opset 17 and IR version 8).
Not used by the tests: a fixture tool for checking what the exporter writes.
"""
import pathlib
import sys

import onnx


def files(arguments):
    for argument in arguments:
        path = pathlib.Path(argument)
        if path.is_dir():
            yield from sorted(path.glob("*.onnx"))
        else:
            yield path


def main(arguments):
    if not arguments:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    failures = 0
    checked = 0
    for path in files(arguments):
        checked += 1
        try:
            onnx.checker.check_model(str(path), full_check=True)
            model = onnx.load(str(path), load_external_data=False)
            opsets = ", ".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in model.opset_import)
            print(f"OK    {path} (IR {model.ir_version}, opset {opsets}, {len(model.graph.node)} nodes)")
        except Exception as error:  # the checker raises several exception types
            failures += 1
            print(f"FAIL  {path}: {type(error).__name__}: {error}")
    print(f"{checked - failures} of {checked} files pass onnx {onnx.__version__}'s full check.")
    return 1 if failures or not checked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
