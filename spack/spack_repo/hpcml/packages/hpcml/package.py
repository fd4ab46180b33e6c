# hpcml: Spack recipe. See docs/install.md ("Spack") for how to use it and what was and
# was not verified; it follows the builtin repository's conventions (spack/spack-packages).
from spack_repo.builtin.build_systems.cmake import CMakePackage
from spack_repo.builtin.build_systems.cuda import CudaPackage

from spack.package import *


class Hpcml(CMakePackage, CudaPackage):
    """Batch machine-learning pipeline for Slurm clusters: MPI programs (hpcml-gen,
    hpcml-etl, hpcml-train, hpcml-sweep, ...) that read and write parallel HDF5 on a
    shared file system, chained by Slurm job scripts. Optional CUDA backend (cuBLAS,
    NCCL) built as a plugin that CPU runs never load."""

    # No public release yet: build a checkout with `spack develop hpcml@=0.1.0` (or
    # `spack dev-build`); add `git = "<your mirror>"` and versions once there is one.
    homepage = "https://example.invalid/hpcml"

    depends_on("c", type="build")
    depends_on("cmake@3.20:", type="build")
    depends_on("pkgconfig", type="build")

    depends_on("mpi")
    depends_on("hdf5+mpi")  # parallel HDF5, the same MPI (Spack unifies it)
    depends_on("openblas")  # CMake asks for BLA_VENDOR=OpenBLAS and cblas.h
    depends_on("libconfig")
    depends_on("jansson")
    depends_on("zlib-api")

    # +cuda and cuda_arch come from CudaPackage; the plugin needs at least one arch.
    conflicts("cuda_arch=none", when="+cuda", msg="hpcml +cuda needs cuda_arch=<sm>, e.g. 80 or 90")
    with when("+cuda"):
        depends_on("cuda@11.0:")
        depends_on("nccl")
        for arch in CudaPackage.cuda_arch_values:
            depends_on(f"nccl+cuda cuda_arch={arch}", when=f"cuda_arch={arch}")

    def cmake_args(self):
        spec = self.spec
        args = [
            self.define("HPCML_CUDA", "ON" if spec.satisfies("+cuda") else "OFF"),
            self.define("HDF5_ROOT", spec["hdf5"].prefix),
            self.define("HDF5_PREFER_PARALLEL", True),
            self.define("BUILD_TESTING", self.run_tests),
        ]
        if spec.satisfies("+cuda"):
            archs = spec.variants["cuda_arch"].value
            args.append(self.define("CMAKE_CUDA_ARCHITECTURES", ";".join(archs)))
            args.append(self.define("NCCL_INCLUDE_DIR", spec["nccl"].prefix.include))
            args.append(self.define("NCCL_LIBRARY", spec["nccl"].libs[0]))
        return args

    def setup_run_environment(self, env):
        # The Slurm scripts find lib.sh (and a user's copy of a job script finds it)
        # through HPCML_ROOT, which hpcml's own modulefiles set too.
        env.set("HPCML_ROOT", self.prefix)
