# hpcml_modulefiles.cmake — runs inside `cmake --install` (install(CODE) in
# hpcml_install.cmake), after hpcml_module_vars.cmake set HPCML_M_*. Writes
#   <prefix>/share/hpcml/modulefiles/hpcml/<version>.lua   (Lmod)
#   <prefix>/share/hpcml/modulefiles-tcl/hpcml/<version>   (Environment Modules, Tcl)
# from cmake/modulefile.{lua,tcl}.in. At install time, because only then is the prefix
# known (cmake --install --prefix P); DESTDIR, when set, is prepended to where the files
# go, not to the paths inside them.
set(root "${CMAKE_INSTALL_PREFIX}")
get_filename_component(root "${root}" ABSOLUTE)

# The commit of the build being installed (the build wrote the header).
set(commit unknown)
if(EXISTS "${HPCML_M_GIT_HEADER}")
  file(STRINGS "${HPCML_M_GIT_HEADER}" line REGEX "define HPCML_GIT_COMMIT")
  string(REGEX REPLACE ".*\"(.*)\".*" "\\1" commit "${line}")
endif()

# Text from the build (a library path, the MPI's own version string) goes inside Lua
# [[...]] and Tcl {...} strings: no brackets, braces, quotes, dollars or backslashes.
function(module_text out text)
  string(REGEX REPLACE "[][{}\"$\\\\]" "" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()
module_text(VERSION "${HPCML_M_VERSION}")
module_text(COMMIT "${commit}")
module_text(MPI "${HPCML_M_MPI}")
module_text(HDF5 "${HPCML_M_HDF5}")
module_text(BLAS "${HPCML_M_BLAS}")
module_text(GPU "${HPCML_M_GPU}")
module_text(ROOT "${root}")
string(REPLACE "," " " PROGRAMS "${HPCML_M_PROGRAMS}")
set(BINDIR "${HPCML_M_BINDIR}")
set(MANDIR "${HPCML_M_MANDIR}")
set(DATADIR "${HPCML_M_DATADIR}")
set(DOCDIR "${HPCML_M_DOCDIR}")

# Site modules to load first, and LD_LIBRARY_PATH only when the build has no RPATH.
set(DEPENDS_LUA "")
set(DEPENDS_TCL "")
foreach(m ${HPCML_M_DEPENDS})
  module_text(m "${m}")
  string(APPEND DEPENDS_LUA "depends_on(\"${m}\")\n")
  string(APPEND DEPENDS_TCL "if {![is-loaded ${m}]} { module load ${m} }\n")
endforeach()
set(LD_PATH_LUA "")
set(LD_PATH_TCL "")
set(ld_path ${HPCML_M_LD_PATH})
list(REVERSE ld_path) # each prepend goes in front: the first listed ends up first
foreach(d ${ld_path})
  module_text(d "${d}")
  string(APPEND LD_PATH_LUA "prepend_path(\"LD_LIBRARY_PATH\", \"${d}\")\n")
  string(APPEND LD_PATH_TCL "prepend-path LD_LIBRARY_PATH {${d}}\n")
endforeach()

foreach(kind lua tcl)
  if(kind STREQUAL "lua")
    set(rel "${DATADIR}/modulefiles/hpcml/${VERSION}.lua")
  else()
    set(rel "${DATADIR}/modulefiles-tcl/hpcml/${VERSION}")
  endif()
  set(dest "$ENV{DESTDIR}${root}/${rel}")
  message(STATUS "Installing: ${dest}")
  configure_file("${HPCML_M_TEMPLATES}/modulefile.${kind}.in" "${dest}" @ONLY)
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${dest}")
endforeach()
