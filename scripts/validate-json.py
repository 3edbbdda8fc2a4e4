#!/usr/bin/env python3
"""Validates JSON documents against a JSON Schema (draft 2020-12) with the `jsonschema` package.

Usage: validate-json.py SCHEMA FILE...   (a FILE ending in .jsonl holds one document per line)
Prints one line per invalid document and exits 1 if any is invalid.
"""
import json
import sys

from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource


def documents(path):
    with open(path, encoding="utf-8") as handle:
        if path.endswith(".jsonl"):
            for number, line in enumerate(handle, 1):
                if line.strip():
                    yield f"{path}:{number}", json.loads(line)
        else:
            yield path, json.load(handle)


def main():
    schema_path, *paths = sys.argv[1:]
    with open(schema_path, encoding="utf-8") as handle:
        schema = json.load(handle)
    Draft202012Validator.check_schema(schema)
    # Schemas beside this one are reachable through relative $refs by their $id.
    resources = []
    for sibling in Path(schema_path).parent.glob("*.json"):
        contents = json.loads(sibling.read_text(encoding="utf-8"))
        if "$id" in contents:
            resources.append((contents["$id"], Resource.from_contents(contents)))
    registry = Registry().with_resources(resources)
    validator = Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())
    failures = checked = 0
    for path in paths:
        for name, document in documents(path):
            checked += 1
            for error in validator.iter_errors(document):
                failures += 1
                location = "/".join(str(part) for part in error.absolute_path)
                print(f"{name}: {location or '<root>'}: {error.message}")
    print(f"{checked} document(s) checked, {failures} problem(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
