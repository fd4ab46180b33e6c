# shellcheck shell=bash
# kit_lib.sh — the device kit's one implementation of unpack, environment and
# build, sourced by scripts/device/check.sh (on the GPU machine, and inside
# the clean root of prove_clean_root.sh). Functions:
#   kit_unpack KIT_DIR PREFIX    dpkg -x every .deb of the kit into PREFIX
#                                (never over /) and fix the prefix up
#   kit_env PREFIX               export PATH, LD_LIBRARY_PATH, pkg-config,
#                                CMake and Open MPI/PMIx/HDF5 variables
#   kit_check_libs PREFIX        every shared library the kit's programs and
#                                libraries need resolves (prints what does not)
#   kit_cmake                    the cmake to use (the image's if >= 3.20)
#   kit_build SRC BUILD ARGS...  configure (Release) and build with the kit
# Debian's layout is kept inside PREFIX (PREFIX/usr/..., PREFIX/etc/...).

KIT_ARCH=x86_64-linux-gnu
kit_ldconfig() { # ldconfig lives in /sbin, not always on PATH
  local l
  l=$(command -v ldconfig || echo /sbin/ldconfig)
  "$l" "$@"
}

# The directories holding the kit's shared libraries, searched in this order.
kit_lib_dirs() { # PREFIX
  local p=$1/usr/lib/$KIT_ARCH
  echo "$p/openmpi/lib $p/pmix2/lib $p/hdf5/openmpi $p/openblas-pthread $p $1/lib/$KIT_ARCH $1/usr/lib/libpsm1"
}

kit_unpack() { # KIT_DIR PREFIX
  local kit=$1 prefix=$2 f n=0
  [[ -n $prefix && $prefix != / ]] || { echo "kit_unpack: refusing to unpack over /" >&2; return 1; }
  [[ -f $kit/MANIFEST ]] || { echo "kit_unpack: $kit/MANIFEST missing: run scripts/device/pack.sh" >&2; return 1; }
  # Every package of the manifest, with the checksum pack.sh recorded.
  local pkg ver _size sum
  while read -r pkg ver _size sum; do
    f=$(ls "$kit/${pkg}_"*.deb 2>/dev/null | head -1)
    [[ -n $f ]] || { echo "kit_unpack: $pkg $ver missing from $kit" >&2; return 1; }
    [[ $(sha256sum "$f" | cut -d' ' -f1) == "$sum" ]] ||
      { echo "kit_unpack: $f: checksum differs from MANIFEST" >&2; return 1; }
  done <"$kit/MANIFEST"
  rm -rf "$prefix"
  mkdir -p "$prefix"
  # in parallel: the packages share directories, no files
  n=$(find "$kit" -maxdepth 1 -name '*.deb' | wc -l)
  find "$kit" -maxdepth 1 -name '*.deb' -print0 |
    xargs -0 -n 1 -P "$(nproc)" sh -c \
      'dpkg-deb -x "$1" "$0" || { echo "kit_unpack: dpkg-deb -x $1 failed" >&2; exit 255; }' "$prefix" ||
    return 1
  echo "kit_unpack: $n packages into $prefix"
  kit_fixup "$prefix"
}

# What dpkg's maintainer scripts, update-alternatives and ldconfig would have
# done, and the paths compiled into text files, redone inside PREFIX.
kit_fixup() { # PREFIX
  local prefix=$1 bin=$1/usr/bin d f name
  # update-alternatives: Debian's generic names of the Open MPI / HDF5 tools.
  for name in mpicc mpirun mpiexec h5pcc; do
    [[ -e $bin/$name.openmpi ]] && ln -sfn "$name.openmpi" "$bin/$name"
  done
  [[ -e $bin/pkgconf && ! -e $bin/pkg-config ]] && ln -sfn pkgconf "$bin/pkg-config"
  # update-alternatives for BLAS: libopenblas.so(.0) in the arch directory.
  d=$prefix/usr/lib/$KIT_ARCH
  for f in "$d"/openblas-pthread/libopenblas*.so*; do
    [[ -e $f ]] && ln -sfn "openblas-pthread/$(basename "$f")" "$d/$(basename "$f")"
  done
  # ldconfig: soname links (libfoo.so.N -> libfoo.so.N.M), in the prefix only (-n).
  for d in $(kit_lib_dirs "$prefix"); do
    [[ -d $d ]] && kit_ldconfig -n "$d"
  done
  # h5pcc links -lcrypto -lcurl -lsz -lz (Debian's HDF5 build flags) even for
  # shared builds; the kit has libcurl.so, libsz.so, libz.so (LIBRARY_PATH,
  # kit_env), and libcrypto.so points at the image's libcrypto.so.3 (OpenSSL
  # 3 is in every image with python3; libssl-dev is not packed).
  d=$prefix/usr/lib/$KIT_ARCH
  if [[ ! -e $d/libcrypto.so ]]; then
    f=$(kit_ldconfig -p 2>/dev/null | awk '/libcrypto\.so\.3 .*x86-64/{print $NF; exit}')
    [[ -n $f ]] && ln -sfn "$f" "$d/libcrypto.so"
  fi
  # pkg-config files: absolute /usr paths -> PREFIX/usr.
  for f in "$prefix"/usr/lib/$KIT_ARCH/pkgconfig/*.pc "$prefix"/usr/share/pkgconfig/*.pc \
           "$prefix"/usr/lib/$KIT_ARCH/openmpi/lib/pkgconfig/*.pc; do
    [[ -f $f && ! -L $f ]] || continue
    sed -i -E "s#(^[A-Za-z_]+=|-I|-L|[[:space:]])/usr([/[:space:]]|\$)#\1$prefix/usr\2#g" "$f"
  done
  # h5pcc: the prefix it reports is a shell variable at its top.
  [[ -f $bin/h5pcc.openmpi ]] && sed -i "s#^prefix=\"/usr\"#prefix=\"$prefix/usr\"#" "$bin/h5pcc.openmpi"
  # Open MPI's wrapper data and installation directories are relocated at run
  # time by OPAL_PREFIX (kit_env): ${prefix}-relative in Debian's build.
  return 0
}

kit_env() { # PREFIX
  local prefix=$1 d ld=""
  for d in $(kit_lib_dirs "$prefix"); do ld+=${ld:+:}$d; done
  export KIT_PREFIX=$prefix
  # the image's own, for programs that need none of the kit (PyTorch)
  export KIT_IMAGE_LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}
  export PATH=$prefix/usr/bin:$PATH
  export LD_LIBRARY_PATH=$ld${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export PKG_CONFIG_PATH=$prefix/usr/lib/$KIT_ARCH/pkgconfig:$prefix/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
  export CMAKE_PREFIX_PATH=$prefix/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
  export LIBRARY_PATH=$ld${LIBRARY_PATH:+:$LIBRARY_PATH} # gcc's -l search (h5pcc's -lcurl ...)
  export CMAKE_LIBRARY_PATH=$prefix/usr/lib/$KIT_ARCH/openblas-pthread:$prefix/usr/lib/$KIT_ARCH/hdf5/openmpi
  # Open MPI (configured --prefix=/usr, libdir/pkgdatadir below it): OPAL_PREFIX
  # relocates libdir (the MCA components), pkgdatadir (wrapper data, help
  # texts); sysconfdir was absolute (/etc/openmpi), so it is set on its own.
  export OPAL_PREFIX=$prefix/usr
  export OPAL_SYSCONFDIR=$prefix/etc/openmpi
  export PMIX_PREFIX=$prefix/usr/lib/$KIT_ARCH/pmix2
  export PMIX_MCA_mca_base_component_path=$prefix/usr/lib/$KIT_ARCH/pmix2/lib/pmix
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  export OMPI_MCA_btl_vader_single_copy_mechanism=none # no CMA in containers/VMs
  export HDF5_PLUGIN_PATH=$prefix/usr/lib/$KIT_ARCH/hdf5/openmpi/plugins
}

kit_ldd_files() { # FILES...: print "FILE: missing libs" for each ELF with unresolved ones
  local f m
  for f; do
    head -c 4 "$f" 2>/dev/null | grep -q $'\x7fELF' || continue
    # a missing library, or a symbol version the image's libc lacks (the kit
    # is Debian 12's: glibc >= 2.36)
    m=$(ldd "$f" 2>&1 | awk '/not found/{sub(/^[ \t]+/, ""); printf "%s; ", $0}')
    [[ -z $m ]] || echo "kit_check_libs: $f: $m"
  done
  return 0
}

kit_check_libs() { # PREFIX: ldd every ELF program/library of the kit (in parallel)
  local prefix=$1 out
  export -f kit_ldd_files
  out=$( { find "$prefix/usr/bin" "$prefix/usr/lib/$KIT_ARCH" -maxdepth 1 -type f -print0
           find "$prefix/usr/lib/$KIT_ARCH/openmpi/lib" -maxdepth 1 -name '*.so*' -type f -print0; } |
         xargs -0 -n 16 -P "$(nproc)" bash -c 'kit_ldd_files "$@"' _)
  [[ -z $out ]] || { echo "$out"; return 1; }
}

kit_cmake() { # the image's cmake when >= 3.20, else the kit's
  local c v
  for c in $(type -ap cmake); do
    [[ $c == "$KIT_PREFIX"/* ]] && continue
    v=$("$c" --version 2>/dev/null | awk 'NR==1{print $3}')
    if [[ -n $v ]] && printf '3.20\n%s\n' "$v" | sort -V -C; then echo "$c"; return; fi
  done
  echo "$KIT_PREFIX/usr/bin/cmake"
}

kit_build() { # SRC BUILD CMAKE_ARGS...
  local src=$1 build=$2 cmake gen=(-G "Unix Makefiles") keep=(-k)
  shift 2
  cmake=$(kit_cmake)
  # make, else ninja (the GPU image has ninja from pip; make is assumed, not seen)
  if ! command -v make >/dev/null && command -v ninja >/dev/null; then
    gen=(-G Ninja) keep=(-k 0)
  fi
  echo "kit_build: $cmake ($("$cmake" --version | head -1)), ${gen[*]}"
  mkdir -p "$build"
  "$cmake" "${gen[@]}" -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DMPI_C_COMPILER="$KIT_PREFIX/usr/bin/mpicc" \
    -DHDF5_C_COMPILER_EXECUTABLE="$KIT_PREFIX/usr/bin/h5pcc" "$@" || return 1
  # keep going past a failing target, so what did build can still be checked
  "$cmake" --build "$build" -j "$(nproc)" -- "${keep[@]}"
}
