# hpcml_install.cmake — what `cmake --install BUILD --prefix P` puts where (included by
# CMakeLists.txt once HPCML_PROGRAMS is known). Everything a user needs, nothing else:
#
#   P/bin/hpcml-*                               the programs (HPCML_PROGRAMS)
#   P/lib/hpcml/libhpcml_cuda.so                the CUDA plugin, where it was built; the
#                                               programs open it relative to their own path
#   P/share/hpcml/slurm/                        job scripts, pipeline.sh, lib.sh, install-paths.sh
#   P/share/hpcml/configs/*.cfg                 the example configs
#   P/share/doc/hpcml/                          README.md, docs/*.md
#   P/share/man/man1/hpcml-*.1                  one page per program, from its --help
#   P/share/hpcml/modulefiles/hpcml/V.lua       Lmod modulefile (V = PROJECT_VERSION)
#   P/share/hpcml/modulefiles-tcl/hpcml/V       the same for Environment Modules (Tcl)
#
# Not installed: the library archive and headers (nothing links against hpcml), tests,
# benchmarks, slurm/scaling.sbatch (it runs benchmarks/ from a source tree) and
# slurm/local/ (a throw-away Slurm for tests and demos). Paths follow GNUInstallDirs, so
# -DCMAKE_INSTALL_LIBDIR=lib64 and friends are honoured; docs/install.md has the recipe.
set(HPCML_DATADIR ${CMAKE_INSTALL_DATADIR}/hpcml)

install(TARGETS ${HPCML_PROGRAMS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(HPCML_HAVE_CUDA)
  install(TARGETS hpcml_cuda LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/hpcml)
endif()

# ---- Slurm scripts -----------------------------------------------------------------
# Every job script and pipeline script in slurm/, so one added there is installed too.
file(GLOB HPCML_SLURM_SCRIPTS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/slurm/*.sbatch
     ${PROJECT_SOURCE_DIR}/slurm/*.sh)
list(FILTER HPCML_SLURM_SCRIPTS EXCLUDE REGEX "/(scaling\\.sbatch|lib\\.sh)$")
install(PROGRAMS ${HPCML_SLURM_SCRIPTS} DESTINATION ${HPCML_DATADIR}/slurm)
# install-paths.sh tells lib.sh where this install's programs are, relative to the
# scripts, so P/share/hpcml/slurm/*.sbatch runs P/bin's programs even when another
# hpcml is first on PATH. A source tree has no such file (programs from HPCML_PREFIX
# or PATH, as before).
file(RELATIVE_PATH HPCML_SLURM_TO_BIN ${CMAKE_INSTALL_FULL_DATADIR}/hpcml/slurm
     ${CMAKE_INSTALL_FULL_BINDIR})
file(WRITE ${CMAKE_BINARY_DIR}/install-paths.sh
     "# install-paths.sh — written by CMake for an installed slurm/ (sourced by lib.sh):\n"
     "# the programs of this install, relative to this directory.\n"
     "HPCML_INSTALL_BIN_REL=${HPCML_SLURM_TO_BIN}\n")
install(FILES ${PROJECT_SOURCE_DIR}/slurm/lib.sh ${CMAKE_BINARY_DIR}/install-paths.sh
        DESTINATION ${HPCML_DATADIR}/slurm)

# ---- configs and docs --------------------------------------------------------------
file(GLOB HPCML_CONFIGS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/configs/*.cfg)
install(FILES ${HPCML_CONFIGS} DESTINATION ${HPCML_DATADIR}/configs)
# README.md beside docs/, so its links (docs/slurm.md, ...) keep working.
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs
        FILES_MATCHING PATTERN "*.md" PATTERN "*.svg" PATTERN "*.png")

# ---- man pages, generated from each program's --help at build time -------------------
# cmake/hpcml_man.cmake runs `PROG --help` and `PROG --version` (neither starts MPI) and
# writes troff; no help2man needed on the build host.
set(HPCML_MAN_DIR ${CMAKE_BINARY_DIR}/man/man1)
string(REPLACE ";" "," hpcml_programs_csv "${HPCML_PROGRAMS}")
set(hpcml_man_pages "")
foreach(app ${HPCML_PROGRAMS})
  add_custom_command(
    OUTPUT ${HPCML_MAN_DIR}/${app}.1
    COMMAND ${CMAKE_COMMAND} -DPROG=$<TARGET_FILE:${app}> -DOUT=${HPCML_MAN_DIR}/${app}.1
            -DPROGRAMS=${hpcml_programs_csv} -DDATADIR=${HPCML_DATADIR}
            -DDOCDIR=${CMAKE_INSTALL_DOCDIR} -P ${PROJECT_SOURCE_DIR}/cmake/hpcml_man.cmake
    DEPENDS ${app} ${PROJECT_SOURCE_DIR}/cmake/hpcml_man.cmake
    COMMENT "man page ${app}.1"
    VERBATIM)
  list(APPEND hpcml_man_pages ${HPCML_MAN_DIR}/${app}.1)
endforeach()
add_custom_target(hpcml_man ALL DEPENDS ${hpcml_man_pages})
install(FILES ${hpcml_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# ---- modulefiles, written at install time (they hold the install prefix) ---------------
# What the build was made against goes into whatis/help. Site choices:
#   HPCML_MODULE_DEPENDS  modules to load first, e.g. "openmpi/4.1.6;hdf5/1.14.3-mpi"
#                         (the MPI whose mpirun/srun plugin matches the build)
#   HPCML_MODULE_LD_LIBRARY_PATH  directories to prepend to LD_LIBRARY_PATH; by default
#                         none, since the programs carry an RPATH to what they were
#                         linked with, unless the install RPATH is switched off.
set(HPCML_MODULE_DEPENDS "" CACHE STRING "Modules the hpcml modulefile loads first (;-list)")
set(HPCML_MODULE_LD_LIBRARY_PATH "" CACHE STRING
    "Directories the modulefile prepends to LD_LIBRARY_PATH (;-list; default: none with RPATH)")
set(hpcml_ld_path "${HPCML_MODULE_LD_LIBRARY_PATH}")
if(NOT hpcml_ld_path AND (CMAKE_SKIP_INSTALL_RPATH OR CMAKE_SKIP_RPATH
                          OR NOT CMAKE_INSTALL_RPATH_USE_LINK_PATH))
  # No RPATH: the module must say where the libraries linked against live.
  set(hpcml_libs ${MPI_C_LIBRARIES} ${HDF5_C_LIBRARIES} ${BLAS_LIBRARIES}
      ${LIBCONFIG_LINK_LIBRARIES} ${JANSSON_LINK_LIBRARIES})
  if(HPCML_HAVE_CUDA)
    list(APPEND hpcml_libs ${CUDAToolkit_LIBRARY_DIR}/libcudart.so ${NCCL_LIBRARY})
  endif()
  foreach(lib ${hpcml_libs})
    if(IS_ABSOLUTE "${lib}")
      get_filename_component(dir "${lib}" DIRECTORY)
      if(NOT dir IN_LIST CMAKE_C_IMPLICIT_LINK_DIRECTORIES AND NOT dir IN_LIST hpcml_ld_path
         AND NOT dir MATCHES "^/(usr/)?lib(64|/x86_64-linux-gnu|/aarch64-linux-gnu)?$")
        list(APPEND hpcml_ld_path "${dir}")
      endif()
    endif()
  endforeach()
endif()
if(MPI_C_LIBRARY_VERSION_STRING)
  set(hpcml_mpi "${MPI_C_LIBRARY_VERSION_STRING}")
else()
  set(hpcml_mpi "MPI ${MPI_C_VERSION}")
endif()
string(REGEX REPLACE "[\r\n]+.*" "" hpcml_mpi "${hpcml_mpi}") # first line
list(GET MPI_C_LIBRARIES 0 hpcml_mpi_lib)
list(GET HDF5_C_LIBRARIES 0 hpcml_hdf5_lib)
if(HPCML_HAVE_CUDA)
  string(REPLACE ";" "," hpcml_archs "${CMAKE_CUDA_ARCHITECTURES}")
  set(hpcml_gpu "CUDA ${CUDAToolkit_VERSION} plugin (lib/hpcml/libhpcml_cuda.so), architectures ${hpcml_archs}, NCCL ${HPCML_HAVE_NCCL}")
else()
  set(hpcml_gpu "none (built without CUDA: CPU only)")
endif()
set(hpcml_vars "")
foreach(kv
    "VERSION=${PROJECT_VERSION}" "PROGRAMS=${hpcml_programs_csv}"
    "MPI=${hpcml_mpi} (MPI ${MPI_C_VERSION}, ${hpcml_mpi_lib}, launcher ${MPIEXEC_EXECUTABLE})"
    "HDF5=parallel HDF5 ${HDF5_VERSION} (${hpcml_hdf5_lib})" "BLAS=${BLAS_LIBRARIES}"
    "GPU=${hpcml_gpu}" "DEPENDS=${HPCML_MODULE_DEPENDS}" "LD_PATH=${hpcml_ld_path}"
    "BINDIR=${CMAKE_INSTALL_BINDIR}" "MANDIR=${CMAKE_INSTALL_MANDIR}"
    "DATADIR=${HPCML_DATADIR}" "DOCDIR=${CMAKE_INSTALL_DOCDIR}"
    "GIT_HEADER=${HPCML_GENERATED_DIR}/hpcml_git_commit.h"
    "TEMPLATES=${PROJECT_SOURCE_DIR}/cmake")
  string(FIND "${kv}" "=" eq)
  string(SUBSTRING "${kv}" 0 ${eq} k)
  math(EXPR eq "${eq} + 1")
  string(SUBSTRING "${kv}" ${eq} -1 v)
  string(APPEND hpcml_vars "set(HPCML_M_${k} [==[${v}]==])\n")
endforeach()
file(WRITE ${CMAKE_BINARY_DIR}/hpcml_module_vars.cmake "${hpcml_vars}")
install(CODE "include([==[${CMAKE_BINARY_DIR}/hpcml_module_vars.cmake]==])
include([==[${PROJECT_SOURCE_DIR}/cmake/hpcml_modulefiles.cmake]==])")
