#!/usr/bin/env bash
# Regenerates Sources/ShoalWire/Generated/shoal.pb.swift from Sources/ShoalWire/shoal.proto.
# Needs protoc (Debian protobuf-compiler) and protoc-gen-swift built from swift-protobuf at the
# version Package.swift names. Building the plugin takes ~10 minutes, so it is not part of `make`;
# the generated file is committed.
#   PROTOC_GEN_SWIFT=/path/to/protoc-gen-swift scripts/gen-proto.sh
set -euo pipefail
cd "$(dirname "$0")/.."
plugin=${PROTOC_GEN_SWIFT:-}
if [ -z "$plugin" ]; then
  src=${SWIFT_PROTOBUF_SRC:-/tmp/swift-protobuf-src}
  if [ ! -x "$src/.build/release/protoc-gen-swift" ]; then
    echo "building protoc-gen-swift in $src (about 10 minutes)…" >&2
    [ -d "$src" ] || git clone --quiet --branch 1.39.0 https://github.com/apple/swift-protobuf "$src"
    (cd "$src" && swift build -c release --product protoc-gen-swift)
  fi
  plugin="$src/.build/release/protoc-gen-swift"
fi
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
mkdir -p Sources/ShoalWire/Generated
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Public \
  --swift_out=Sources/ShoalWire/Generated -I Sources/ShoalWire Sources/ShoalWire/shoal.proto
echo "wrote Sources/ShoalWire/Generated/shoal.pb.swift" >&2
