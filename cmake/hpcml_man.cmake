# hpcml_man.cmake — a man page from a program's own --help (cmake -P, at build time):
#   cmake -DPROG=path/hpcml-etl -DOUT=hpcml-etl.1 -DPROGRAMS=hpcml-etl,hpcml-gen,...
#         -DDATADIR=share/hpcml -DDOCDIR=share/doc/hpcml -P hpcml_man.cmake
# --help and --version start no MPI (src/core/app.c), so this runs on any build host.
# --help's shape (print_usage in src/core/app.c) is what is parsed:
#   usage: NAME SYNOPSIS          -> SYNOPSIS
#   one-line summary              -> NAME and DESCRIPTION
#     -c, --config FILE  text     -> OPTIONS (spec, two or more spaces, text)
#   exit codes: 0 ok, 1 ...       -> EXIT STATUS
# The date is today's, or SOURCE_DATE_EPOCH's when set (string(TIMESTAMP) reads it).
foreach(v PROG OUT PROGRAMS DATADIR DOCDIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "hpcml_man.cmake: -D${v}=... missing")
  endif()
endforeach()
get_filename_component(name "${PROG}" NAME)
execute_process(COMMAND "${PROG}" --help OUTPUT_VARIABLE help RESULT_VARIABLE rc1)
execute_process(COMMAND "${PROG}" --version OUTPUT_VARIABLE version RESULT_VARIABLE rc2
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc1 EQUAL 0 OR NOT rc2 EQUAL 0 OR NOT help MATCHES "^usage: ")
  message(FATAL_ERROR "${PROG} --help / --version failed (exit ${rc1}, ${rc2}):\n${help}")
endif()

# troff text: backslashes, hyphens as minus signs (options), a leading dot or quote.
function(roff out text)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  if(text MATCHES "^[.']")
    set(text "\\&${text}")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# pop_line(TEXT LINE): LINE = TEXT's first line, TEXT = the rest. Strings, not CMake
# lists: help text holds brackets and could hold semicolons.
macro(pop_line text line)
  string(FIND "${${text}}" "\n" _nl)
  if(_nl EQUAL -1)
    set(${line} "${${text}}")
    set(${text} "")
  else()
    string(SUBSTRING "${${text}}" 0 ${_nl} ${line})
    math(EXPR _nl "${_nl} + 1")
    string(SUBSTRING "${${text}}" ${_nl} -1 ${text})
  endif()
endmacro()

# "-c, --config FILE" -> \fB\-c\fR, \fB\-\-config\fR \fIFILE\fR
function(roff_spec out spec)
  set(res "")
  string(REPLACE ", " "\n" spec "${spec}")
  while(NOT spec STREQUAL "")
    pop_line(spec alias)
    string(REGEX MATCH "^([^ ]+)( (.*))?$" _ "${alias}")
    roff(opt "${CMAKE_MATCH_1}")
    set(arg "${CMAKE_MATCH_3}")
    if(NOT res STREQUAL "")
      string(APPEND res ", ")
    endif()
    string(APPEND res "\\fB${opt}\\fR")
    if(NOT arg STREQUAL "")
      roff(arg "${arg}")
      string(APPEND res " \\fI${arg}\\fR")
    endif()
  endwhile()
  set(${out} "${res}" PARENT_SCOPE)
endfunction()

set(synopsis "")
set(summary "")
set(options "")
set(exits "")
set(rest "${help}")
set(n 0)
while(NOT rest STREQUAL "")
  pop_line(rest line)
  math(EXPR n "${n} + 1")
  if(n EQUAL 1)
    string(REGEX REPLACE "^usage: [^ ]+ ?" "" synopsis "${line}")
  elseif(n EQUAL 2)
    string(REGEX REPLACE "[.]$" "" summary "${line}")
  elseif(line MATCHES "^ +(-[^ ]+( [^ ]+)*)  +(.*)$")
    roff_spec(spec "${CMAKE_MATCH_1}")
    roff(text "${CMAKE_MATCH_3}")
    string(APPEND options ".TP\n${spec}\n${text}\n")
  elseif(line MATCHES "^ +[^ ]" AND NOT options STREQUAL "")
    string(STRIP "${line}" line) # a wrapped option text
    roff(text "${line}")
    string(APPEND options "${text}\n")
  elseif(line MATCHES "^exit codes: (.*)$")
    string(REPLACE ", " "\n" codes "${CMAKE_MATCH_1}")
    string(APPEND codes "\n")
    while(codes MATCHES "^([0-9]+) ([^\n]*)\n(.*)$")
      set(code "${CMAKE_MATCH_1}")
      set(codes "${CMAKE_MATCH_3}")
      roff(text "${CMAKE_MATCH_2}")
      string(APPEND exits ".TP\n.B ${code}\n${text}\n")
    endwhile()
  endif()
endwhile()
if(summary STREQUAL "" OR options STREQUAL "")
  message(FATAL_ERROR "${PROG} --help: no summary or no options found:\n${help}")
endif()

string(TIMESTAMP date "%Y-%m-%d" UTC)
string(REGEX REPLACE "^[^ ]+ " "" release "${version}") # "0.1.0 (git ...)"
string(REGEX REPLACE " .*" "" release_short "${release}")
string(TOUPPER "${name}" title)
roff(name_r "${name}")
roff(summary_r "${summary}")
roff(synopsis_r "${synopsis}")
roff(version_r "${version}")
set(see "")
string(REPLACE "," ";" programs "${PROGRAMS}")
foreach(p ${programs})
  if(NOT p STREQUAL name)
    roff(p "${p}")
    string(APPEND see ".BR ${p} (1),\n")
  endif()
endforeach()
roff(slurm "\$HPCML_ROOT/${DATADIR}/slurm")
roff(configs "\$HPCML_ROOT/${DATADIR}/configs")
roff(docs "\$HPCML_ROOT/${DOCDIR}")

file(WRITE "${OUT}.tmp" ".\\\" ${name}.1, generated from `${name} --help` by cmake/hpcml_man.cmake
.TH ${title} 1 \"${date}\" \"hpcml ${release_short}\" \"hpcml manual\"
.SH NAME
${name_r} \\- ${summary_r}
.SH SYNOPSIS
.B ${name_r}
${synopsis_r}
.SH DESCRIPTION
${summary_r}.
.PP
${name_r} is an MPI program: start it with
.B mpirun
or
.BR srun ,
or submit the Slurm job scripts of this installation (see FILES), which choose the
launcher, retry transient failures and requeue preempted jobs.
One libconfig file holds every section of a pipeline; each key can be overridden with
\\fB\\-s\\fR \\fIsection.key=value\\fR, and
.B \\-\\-print\\-config
shows the effective configuration. Outputs are written to temporary names and renamed
when complete; an error on one rank ends every rank with the same exit code.
.SH OPTIONS
${options}.SH EXIT STATUS
${exits}.SH ENVIRONMENT
.TP
.B HPCML_ROOT
the installation prefix (set by
.BR \"module load hpcml\" ).
.TP
.B HPCML_CUDA_PLUGIN
the CUDA backend plugin to open instead of the installed
.IR lib/hpcml/libhpcml_cuda.so .
.SH FILES
.TP
.I ${slurm}
job scripts (gen, etl, sweep, train) and
.BR pipeline.sh ,
which submits the whole pipeline as dependent jobs
.TP
.I ${configs}
example configurations
.TP
.I ${docs}
the user guide; docs/config.md lists every configuration key
.SH VERSION
${version_r}
.SH SEE ALSO
${see}.BR mpirun (1),
.BR sbatch (1)
")
file(RENAME "${OUT}.tmp" "${OUT}")
