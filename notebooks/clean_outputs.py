#!/usr/bin/env python3
"""Cleans the outputs stored in the notebooks after a run in VS Code or Jupyter, before committing them.

- Absolute paths of the machine that ran them become relative to this folder (`output/x.zip`, `../data/...`).
- The plain-text alternative of a displayed table starts with the .NET type of the value, which for LINQ results is a
  compiler name (`ListSelectIterator<ValueTuple<...>, <>f__AnonymousType0#3<...>>`); that first line is dropped.

tests/ResNet.MLNet.Tests/Notebooks/NotebookOutputsTests.cs checks that no stored output has either.
Usage: python3 notebooks/clean_outputs.py  (rewrites notebooks/*.ipynb in place)
"""
import glob
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
# Any absolute path that reaches into the repository's top-level folders: keep the part from that folder on.
ABSOLUTE = re.compile(r"(?:/[A-Za-z0-9_.\-]+)+?/(notebooks|tests|data|artifacts|src)/")
COMPILER_TYPE = re.compile(r"^\S*(Iterator|AnonymousType)\S*\n?$")


def relative(text):
    return ABSOLUTE.sub(lambda m: "" if m.group(1) == "notebooks" else f"../{m.group(1)}/", text)


def clean_lines(lines):
    return [relative(line) for line in lines]


def clean(notebook):
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = clean_lines(output["text"])
            for mime, value in output.get("data", {}).items():
                if not isinstance(value, list):
                    continue
                value = clean_lines(value)
                if mime == "text/plain" and value and COMPILER_TYPE.match(value[0]):
                    value = value[1:]
                output["data"][mime] = value
    return notebook


for path in sorted(glob.glob(os.path.join(HERE, "*.ipynb"))):
    with open(path, encoding="utf-8") as f:
        notebook = json.load(f)
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(clean(notebook), indent=1, ensure_ascii=False) + "\n")
