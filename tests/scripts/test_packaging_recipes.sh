#!/usr/bin/env bash
# test_packaging_recipes.sh — what this machine can check of the Spack recipe and the
# EasyBuild easyconfigs (neither tool is installed here; docs/install.md says what was
# verified against their public package repositories and what was not):
#   - spack/.../package.py compiles as Python and declares the dependencies, the CUDA
#     mixin and the cmake_args that map +cuda / cuda_arch onto hpcml's CMake options;
#   - each easybuild/*.eb parses and runs as Python (EasyBuild's easyconfig format), with
#     the mandatory parameters, the dependencies hpcml's CMake looks for, and a sanity
#     check listing every program of src/apps.
# labels: install
# timeout: 60
# ranks: none (reads the recipes)
# options: none
# skips (exit 77): never
# Usage: bash test_packaging_recipes.sh BUILD_DIR SRC_DIR
source "$(dirname "$0")/lib.sh" "$@"
recipe=$SRC/spack/spack_repo/hpcml/packages/hpcml/package.py
[[ -r $recipe ]] || fail "no Spack recipe at $recipe"
"$PY" - "$recipe" <<'PY' || fail "Spack recipe check failed"
import ast, sys
src = open(sys.argv[1]).read()
compile(src, sys.argv[1], "exec")  # syntax
tree = ast.parse(src)
cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Hpcml")
bases = {b.id for b in cls.bases if isinstance(b, ast.Name)}
assert {"CMakePackage", "CudaPackage"} <= bases, bases
deps = set()
for node in ast.walk(cls):
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "depends_on":
        arg = node.args[0]
        if isinstance(arg, ast.Constant):
            deps.add(arg.value.split("@")[0].split("+")[0].split(" ")[0])
want = {"mpi", "hdf5", "openblas", "libconfig", "jansson", "nccl", "cuda", "cmake", "pkgconfig", "zlib-api"}
assert want <= deps, want - deps
assert "hdf5+mpi" in src, "hdf5 without +mpi"
for k in ("HPCML_CUDA", "CMAKE_CUDA_ARCHITECTURES", "cuda_arch"):
    assert k in src, k
print("spack recipe: class Hpcml(CMakePackage, CudaPackage), depends on", ", ".join(sorted(deps)))
PY
programs=$(cd "$SRC/src/apps" && ls ./*.c | sed 's|^\./||; s|\.c$||' | tr '\n' ' ')
n=0
for eb in "$SRC"/easybuild/*.eb; do
  "$PY" - "$eb" "$programs" <<'PY' || fail "easyconfig check failed: $eb"
import os, sys
path, programs = sys.argv[1], sys.argv[2].split()
env = {"SYSTEM": {"name": "system", "version": "system"}}
exec(compile(open(path).read(), path, "exec"), env)
for k in ("easyblock", "name", "version", "homepage", "description", "toolchain", "sources",
          "builddependencies", "dependencies", "sanity_check_paths", "moduleclass"):
    assert k in env, "missing " + k
assert env["easyblock"] == "CMakeMake" and env["name"] == "hpcml"
assert os.path.basename(path).startswith("hpcml-%s-%s-%s" % (env["version"], env["toolchain"]["name"],
                                                            env["toolchain"]["version"])), path
deps = {d[0] for d in env["dependencies"]}
assert {"HDF5", "OpenBLAS", "libconfig", "Jansson"} <= deps, deps
assert {d[0] for d in env["builddependencies"]} >= {"CMake", "pkgconf"}
cuda = "CUDA" in os.path.basename(path)
assert cuda == ("CUDA" in deps) == ("NCCL" in deps) == ("-DHPCML_CUDA=ON" in env["configopts"]), path
files = env["sanity_check_paths"]["files"]
for p in programs:
    assert "bin/" + p in files, "sanity check lacks bin/" + p
print(os.path.basename(path), "ok:", ", ".join(sorted(deps)))
PY
  n=$((n + 1))
done
((n >= 2)) || fail "expected a CPU and a CUDA easyconfig, found $n"
pass "Spack recipe and $n easyconfigs: syntax, parameters, dependencies, every program in the sanity check"
