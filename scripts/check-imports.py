#!/usr/bin/env python3
"""Package.swift's target dependencies must equal the modules each target imports.

Reads the package description (`swift package dump-package`, or a saved JSON with --package),
collects every `import X` in Sources/<target> and Tests/<target>, and fails when a target
imports a module it does not declare (it builds only through another target's dependency) or
declares one it never imports. System modules (Foundation, Glibc, XCTest, …) are left out.
Run by `make test`."""
import argparse, json, os, re, subprocess, sys

SYSTEM = {"Foundation", "FoundationEssentials", "FoundationNetworking", "Dispatch", "Glibc", "Darwin",
          "XCTest", "Testing", "Swift", "_Concurrency", "Synchronization", "os", "PackageDescription"}
# A product whose module name differs from its own.
PRODUCT_MODULES = {"GRDB": {"GRDB"}, "Yams": {"Yams"}, "Logging": {"Logging"}, "SwiftProtobuf": {"SwiftProtobuf"},
                   "ArgumentParser": {"ArgumentParser"}}
IMPORT = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:public\s+|internal\s+|package\s+|private\s+|fileprivate\s+)?import\s+(?:(?:struct|class|enum|func|protocol|typealias|var|let)\s+)?([A-Za-z_][A-Za-z0-9_]*)")


def declared(target):
    names = set()
    for dep in target.get("dependencies", []):
        for kind in ("byName", "target", "product"):
            if kind in dep:
                name = dep[kind][0]
                names |= PRODUCT_MODULES.get(name, {name}) if kind == "product" else {name}
    return names


def imported(directory):
    found = {}
    for root, _, files in os.walk(directory):
        for f in files:
            if not f.endswith(".swift"):
                continue
            path = os.path.join(root, f)
            in_string = False  # inside a multi-line string literal (Python programs live in some)
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    m = None if in_string else IMPORT.match(line)
                    if m and m.group(1) not in SYSTEM:
                        found.setdefault(m.group(1), path)
                    if line.count('"""') % 2:
                        in_string = not in_string
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", help="a saved `swift package dump-package` JSON (default: run it)")
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if args.package:
        with open(args.package) as handle:
            package = json.load(handle)
    else:
        package = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=root, check=True,
                                            capture_output=True, text=True).stdout)
    problems = []
    for target in package["targets"]:
        if target["type"] in ("system", "plugin", "binary"):
            continue
        name = target["name"]
        directory = os.path.join(root, target.get("path") or ("Tests" if target["type"] == "test" else "Sources"), "" if target.get("path") else name)
        uses, wants = imported(directory), declared(target)
        for module in sorted(set(uses) - wants - {name}):
            problems.append(f"{name}: imports {module} ({os.path.relpath(uses[module], root)}) but Package.swift does not declare it")
        for module in sorted(wants - set(uses)):
            problems.append(f"{name}: Package.swift declares {module}, which no file of {name} imports")
    for p in problems:
        print(p, file=sys.stderr)
    print(f"check-imports: {len(package['targets'])} targets, {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
