#!/bin/sh
# Regenerate export_pb2.py and export_pb2.pyi from export.proto; run from the repository root.
#
# protoc comes from grpcio-tools in a throwaway venv, so the project's venv keeps exactly the
# protobuf runtime pinned in requirements/runtime.lock. grpcio-tools 1.85.1 bundles protoc 35.1, whose
# gencode (7.35.1) the runtime accepts as long as it is not older (protobuf >= 7.35.1).
set -eu

GRPCIO_TOOLS_VERSION=1.85.1
VENV=${PROTOC_VENV:-/tmp/protoc-venv}
OUT=authority/formats/gaen

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet "grpcio-tools==$GRPCIO_TOOLS_VERSION"
"$VENV/bin/python" -m grpc_tools.protoc --proto_path=. --python_out=. --pyi_out=. "$OUT/export.proto"

for generated in "$OUT/export_pb2.py" "$OUT/export_pb2.pyi"; do
    {
        echo "# Generated from export.proto by protoc 35.1 (grpcio-tools $GRPCIO_TOOLS_VERSION); do not edit."
        echo "# Regenerate from the repository root with: sh $OUT/generate_pb2.sh"
        echo "# which runs: python -m grpc_tools.protoc --proto_path=. --python_out=. --pyi_out=. $OUT/export.proto"
        echo "# ruff: noqa"
        echo "# fmt: off"
        echo "# mypy: ignore-errors"
        cat "$generated"
    } > "$generated.tmp"
    mv "$generated.tmp" "$generated"
done
