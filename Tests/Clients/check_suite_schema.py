"""Validates suites and the suite fragments of Markdown files against evalh's suite schema with
the jsonschema package (Draft 2020-12). Prints one line per problem, then `checked N`; exit 1 on
any problem. A YAML block of a Markdown file is a suite fragment when all its top-level keys are
suite keys (workflows and manifests are not); fragments are held to the schema less `required`."""
import json
import re
import sys

import jsonschema
import yaml

schema = json.load(open(sys.argv[1]))
whole = jsonschema.Draft202012Validator(schema)
fragment_schema = dict(schema)
fragment_schema.pop("required", None)
fragment = jsonschema.Draft202012Validator(fragment_schema)
top = set(schema["properties"])
problems = 0
checked = 0


def check(validator, document, where):
    global problems, checked
    checked += 1
    for error in validator.iter_errors(document):
        problems += 1
        print(f"{where}: {'/'.join(map(str, error.path))}: {error.message[:200]}")


for path in sys.argv[2:]:
    text = open(path, encoding="utf-8").read()
    if path.endswith((".yaml", ".yml")):
        check(whole, yaml.safe_load(text), path)
        continue
    for block in re.findall(r"```yaml\n(.*?)```", text, re.S):
        for document in yaml.safe_load_all(block):
            if isinstance(document, dict) and document and set(document) <= top:
                check(fragment, document, path)
print(f"checked {checked}")
sys.exit(1 if problems else 0)
