/* etl_sample.h — the records --infer-schema looks at. */
#ifndef HPCML_ETL_SAMPLE_H
#define HPCML_ETL_SAMPLE_H

#include <stdint.h>

#include "etl/etl_inputs.h"
#include "etl/etl_schema.h"

/* Serial: the first records of one file, for --infer-schema. Fills
 * up to max_rows rows of field texts (row-major, in->n_names per row; NULL
 * for a missing field). */
int etl_read_sample(const etl_options *o, const etl_inputs *in, int64_t max_rows, char ***cells,
                    int64_t *n_rows);

#endif
