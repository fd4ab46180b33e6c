/* atomic_file.h — moved to core/atomic_file.h (core must not include io; the
 * profile writer in core uses it). This forwarding header stays only until
 * the branches written before the move (src/train, src/predict) include
 * core/atomic_file.h; then delete it. */
#ifndef HPCML_IO_ATOMIC_FILE_H
#define HPCML_IO_ATOMIC_FILE_H
#include "core/atomic_file.h"
#endif
