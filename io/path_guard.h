/* path_guard.h — never write over an input: outputs are compared with the
 * files a run reads (and with other programs' files) by device and inode,
 * so `./a.csv`, `dir/../a.csv`, a symlink and a hard link all count as the
 * same file. Checked before anything is read. Not collective. */
#ifndef HPCML_IO_PATH_GUARD_H
#define HPCML_IO_PATH_GUARD_H

/* HPCML_EUSAGE when writing `out` (the setting out_what, e.g. "etl.output")
 * would replace `in` (in_what, e.g. "an input of etl.input"); HPCML_OK
 * otherwise, also when either does not exist yet. */
int fs_refuse_overwrite(const char *out, const char *out_what, const char *in, const char *in_what);

#endif
