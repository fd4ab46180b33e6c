/* model_layout.h — the model.h5 file contract between hpcml-train (writer,
 * io/model_file.c) and hpcml-predict (reader). Readable with h5py alone;
 * documented in docs/formats.md. Version it: a reader rejects another
 * hpcml_format or a format_version it does not know (exit 2, bad data).
 *
 *   /                 attributes hpcml_format = "hpcml-model",
 *                     format_version (int32) = HPCML_MODEL_VERSION,
 *                     hpcml_version (string) = hpcml_version_string() of the writer,
 *                     checksum (string, hex), checksum_algorithm = "sha256/v2",
 *                     threshold (float64: binary decision threshold on P(class 1)),
 *                     label_column (string), weights ("best" | "last"),
 *                     epoch (int64: the epoch the weights come from)
 *   /model/widths     int64 [n_layers + 1]  inputs, hidden widths..., classes
 *   /model attributes activation ("relu" | "gelu"), n_layers (int64)
 *   /model/layer{k}.weight  float32 [out][in]  (PyTorch nn.Linear layout)
 *   /model/layer{k}.bias    float32 [out]
 *   /class_names      strings [n_classes]  the label texts, class index order
 *   /class_weights    float64 [n_classes]  the training loss's class weights (all 1: none),
 *                     for a loss on labelled data scored later that equals evaluation.json's
 *   /train_config     string  the training run's effective config text
 *   /meta             a copy of the dataset's /meta group, whole (io/dataset_layout.h):
 *                     the fitted transform (columns, vocabularies, imputation
 *                     and scaling), the ETL config text, class names and
 *                     weights, and whatever else the ETL stores there
 *
 * The checksum is SHA-256 over, in this order: every layer's weight then
 * bias bytes (little-endian float32), the threshold (little-endian float64),
 * the /train_config text and the /meta/config text (without terminators);
 * from format_version 2 ("sha256/v2") then the objects /meta (recursively),
 * /class_names and /class_weights in canonical form, so that a damaged
 * vocabulary, imputation value or scaling array is refused:
 *   object:    tag byte 'G' (group), 'D' (dataset) or 'O', its link name and
 *              a NUL; its attributes in increasing name order, each as 'A',
 *              name, NUL, value; a dataset's value; a group's members in
 *              increasing name order (soft/external links: 'L', name, NUL)
 *   value:     uint64 LE H5T class, uint64 rank, uint64 per dimension, then
 *              the elements: integers as int64 (uint64 when unsigned) LE,
 *              floats as float64 LE, strings as uint64 length + bytes (fixed
 *              strings up to the first NUL), other types as native bytes.
 * Version 1 files (checksum over the first part only) are still read; the
 * reader warns that their transform is not covered.
 * No time stamps: the same weights and inputs give the same file contents. */
#ifndef HPCML_MODEL_LAYOUT_H
#define HPCML_MODEL_LAYOUT_H

#define HPCML_MODEL_MAGIC "hpcml-model"
#define HPCML_MODEL_VERSION 2
#define HPCML_MODEL_VERSION_OLDEST 1 /* still read: checksum sha256/v1 */
#define HPCML_MODEL_CHECKSUM_ALGORITHM "sha256/v2"

#endif
