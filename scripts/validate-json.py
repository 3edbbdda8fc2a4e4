#!/usr/bin/env python3
"""Validates JSON and YAML documents against JSON Schemas with the `jsonschema` package.

Usage:
  validate-json.py SCHEMA FILE...        every FILE against SCHEMA
  validate-json.py --examples ASYNCAPI   every message example of an AsyncAPI 3 document
                                         against that message's payload and headers schemas

A FILE ending in .jsonl holds one JSON document per line; .yaml/.yml files are YAML. The
schema's `$schema` picks the dialect (draft-07 for AsyncAPI's, 2020-12 by default). Schemas
beside SCHEMA, and beside any file an AsyncAPI document references, are reachable through
their `$id`. Prints one line per problem and exits 1 if there is any.
"""
import json
import sys

from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7


def load(path):
    """One JSON or YAML document."""
    text = Path(path).read_text(encoding="utf-8")
    if str(path).endswith((".yaml", ".yml")):
        import yaml  # PyYAML; only needed for YAML documents

        return yaml.safe_load(text)
    return json.loads(text)


def documents(path):
    if path.endswith(".jsonl"):
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    yield f"{path}:{number}", json.loads(line)
    else:
        yield path, load(path)


def sibling_resources(directory):
    """(uri, resource) pairs for the JSON schemas of a directory: by `$id` and by file URI."""
    pairs = []
    for sibling in sorted(Path(directory).glob("*.json")):
        contents = json.loads(sibling.read_text(encoding="utf-8"))
        if not isinstance(contents, dict):
            continue
        resource = Resource.from_contents(contents, default_specification=DRAFT7)
        pairs.append((sibling.resolve().as_uri(), resource))
        if "$id" in contents:
            pairs.append((contents["$id"], resource))
    return pairs


def leaves(error):
    """The innermost errors under a oneOf/anyOf failure: they name the field at fault."""
    if not error.context:
        yield error
    for child in error.context:
        yield from leaves(child)


def report(name, validator, document):
    problems = 0
    for error in validator.iter_errors(document):
        problems += 1
        location = "/".join(str(part) for part in error.absolute_path)
        if error.context:
            deepest = sorted(leaves(error), key=lambda leaf: -len(leaf.absolute_path))[:3]
            reasons = "; ".join(f"{'/'.join(str(p) for p in leaf.absolute_path)}: {leaf.message[:200]}" for leaf in deepest)
            print(f"{name}: {location or '<root>'}: matches none of the allowed forms; closest: {reasons}")
        else:
            print(f"{name}: {location or '<root>'}: {error.message}")
    return problems


def validate_files(schema_path, paths):
    schema = load(schema_path)
    cls = validator_for(schema, default=Draft202012Validator)
    cls.check_schema(schema)
    registry = Registry().with_resources(sibling_resources(Path(schema_path).parent))
    validator = cls(schema, registry=registry, format_checker=FormatChecker())
    failures = checked = 0
    for path in paths:
        for name, document in documents(path):
            checked += 1
            failures += report(name, validator, document)
    print(f"{checked} document(s) checked, {failures} problem(s)")
    return failures


def external_refs(node, found):
    """Every `$ref` that names another file."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            found.add(ref.split("#", 1)[0])
        for value in node.values():
            external_refs(value, found)
    elif isinstance(node, list):
        for value in node:
            external_refs(value, found)
    return found


def validate_examples(document_path):
    """Each example's payload and headers against its message's schemas, refs resolved."""
    path = Path(document_path).resolve()
    document = load(path)
    base = path.as_uri()
    pairs = [(base, Resource.from_contents(document, default_specification=DRAFT7))]
    for directory in sorted({(path.parent / ref).resolve().parent for ref in external_refs(document, set())}):
        pairs += sibling_resources(directory)
    registry = Registry().with_resources(pairs)
    failures = checked = 0
    messages = (document.get("components") or {}).get("messages") or {}
    for name, message in messages.items():
        for index, example in enumerate(message.get("examples") or []):
            label = f"{path.name}: {name} example {example.get('name', index)}"
            for part in ("payload", "headers"):
                if part not in example:
                    continue
                if part not in message:
                    failures += 1
                    print(f"{label}: has {part} but the message declares no {part} schema")
                    continue
                schema = {"$ref": f"{base}#/components/messages/{name}/{part}"}
                validator = Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())
                checked += 1
                failures += report(f"{label} {part}", validator, example[part])
    print(f"{checked} example part(s) checked, {failures} problem(s)")
    return failures


def main():
    arguments = sys.argv[1:]
    if len(arguments) == 2 and arguments[0] == "--examples":
        failures = validate_examples(arguments[1])
    elif len(arguments) >= 2 and not arguments[0].startswith("--"):
        failures = validate_files(arguments[0], arguments[1:])
    else:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
