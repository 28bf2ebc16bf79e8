#!/usr/bin/env python3
"""BFCL's own AST checker as a reference for Shoal's tool verifier.

Reads JSON lines {"id", "category", "functions", "expected", "output"} on stdin, where
`output` is Python-call text (`[f(a=1), g(b="x")]`), and writes {"id", "valid",
"error_type"} per line, as judged by bfcl_eval/eval_checker/ast_eval/ast_checker.py.
The checker module is loaded from the installed bfcl-eval package with one stub:
its model-name table (only consulted to rename dotted functions for some APIs), whose
import would pull in every provider SDK.

Run with the project venv: .venv/bin/python scripts/verifiers/bfcl_reference_verdicts.py
"""
import ast, glob, importlib.util, json, os, sys, types


class _NoRenaming:
    underscore_to_dot = False


class _ModelTable(dict):
    def __missing__(self, key):
        return _NoRenaming()


stub = types.ModuleType("bfcl_eval.constants.model_config")
stub.MODEL_CONFIG_MAPPING = _ModelTable()
sys.modules["bfcl_eval.constants.model_config"] = stub

import bfcl_eval  # noqa: E402  (after the stub)
from bfcl_eval.constants.enums import Language  # noqa: E402

path = os.path.join(os.path.dirname(bfcl_eval.__file__), "eval_checker", "ast_eval", "ast_checker.py")
spec = importlib.util.spec_from_file_location("bfcl_ast_checker", path)
checker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(checker)


def decode(text):
    tree = ast.parse(text.strip(), mode="eval").body
    calls = tree.elts if isinstance(tree, ast.List) else [tree]
    return [{ast.unparse(c.func): {k.arg: ast.literal_eval(k.value) for k in c.keywords}} for c in calls]


for line in sys.stdin:
    if not line.strip():
        continue
    item = json.loads(line)
    try:
        result = checker.ast_checker(item["functions"], decode(item["output"]), item["expected"],
                                     Language.PYTHON, item["category"], "reference")
        verdict = {"valid": bool(result["valid"]), "error_type": result.get("error_type", "")}
    except Exception as e:  # the reference crashing is a finding too
        verdict = {"valid": False, "error_type": "reference_exception: %s" % e}
    print(json.dumps({"id": item["id"], **verdict}))
