/* config_schema.c — every configuration key of hpcml, in one table.
 *
 * Each entry: name, type, default (libconfig text), range [min, max] (unused
 * when min > max), enum choices, group fields, and one line of documentation.
 * docs/config.md is generated from this table (hpcml-gen --config-reference)
 * and a test checks that it is up to date. */
#include "core/config.h"

#define NO_RANGE 1, 0
#define BIG 1e300

/* ---- gen: synthetic data ------------------------------------------------- */
static const cfg_key gen_keys[] = {
    {"enabled", CFG_BOOL, "true", NO_RANGE, 0, 0,
     "the pipeline generates synthetic data before the ETL (false: etl.input is real data)"},
    {"output_dir", CFG_STRING, "\"hpcml-out/raw\"", NO_RANGE, 0, 0,
     "directory for the CSV shards, manifest.json and profile.json"},
    {"rows", CFG_INT, "284807", 1, 9e15, 0, 0, "number of data rows in all shards together"},
    {"seed", CFG_INT, "42", 0, 9.2e18, 0, 0, "row i is a pure function of (seed, i)"},
    {"shards", CFG_INT, "8", 1, 1e7, 0, 0,
     "number of CSV files; shard s holds a fixed row range whatever the rank count"},
    {"positive_fraction", CFG_FLOAT, "0.00172", 0, 1, 0, 0, "share of rows with Class = 1"},
    {"categorical_columns", CFG_INT, "0", 0, 26, 0, 0, "extra categorical columns Cat1..CatK"},
    {"category_levels", CFG_INT, "5", 2, 100000, 0, 0, "distinct values per categorical column"},
    {"missing_fraction", CFG_FLOAT, "0.0", 0, 1, 0, 0, "share of V cells left empty"},
    {"malformed_fraction", CFG_FLOAT, "0.0", 0, 1, 0, 0,
     "share of rows made malformed on purpose (ETL tests)"},
    {"header", CFG_BOOL, "true", NO_RANGE, 0, 0, "write a header line in every shard"},
    {"drift_columns", CFG_STRING_LIST, "[]", NO_RANGE, 0, 0,
     "drifted data: these columns (V1..V28, Amount) get x' = drift_scale * x + drift_shift * sd "
     "(docs/drift.md)"},
    {"drift_shift", CFG_FLOAT, "0.0", -1e3, 1e3, 0, 0,
     "shift of the drift_columns, in standard deviations of each column"},
    {"drift_scale", CFG_FLOAT, "1.0", 0, 1e3, 0, 0, "spread factor of the drift_columns"},
    {"new_category_fraction", CFG_FLOAT, "0.0", 0, 1, 0, 0,
     "share of categorical cells set to a level never generated otherwise (c<category_levels>)"},
    {0},
};

/* ---- etl: CSV -> dataset.h5 ------------------------------------------------ */
static const cfg_key etl_column_fields[] = {
    {"name", CFG_STRING, 0, NO_RANGE, 0, 0, "column name (header or etl.column_names)"},
    {"type", CFG_ENUM, "\"float\"", NO_RANGE, "float|int|category|label|id|ignore", 0,
     "how the column is parsed and used"},
    {"required", CFG_BOOL, "true", NO_RANGE, 0, 0, "the input must have this column"},
    {"nullable", CFG_BOOL, "true", NO_RANGE, 0, 0,
     "false: a null is a violation handled by etl.on_null_violation"},
    {"min", CFG_FLOAT, "-1e300", NO_RANGE, 0, 0, "rows with a smaller value are filtered out"},
    {"max", CFG_FLOAT, "1e300", NO_RANGE, 0, 0, "rows with a larger value are filtered out"},
    {"impute", CFG_ENUM, "\"mean\"", NO_RANGE, "none|mean|median|most_frequent|constant|drop", 0,
     "how nulls are filled (drop: the row is dropped)"},
    {"impute_value", CFG_FLOAT, "0.0", NO_RANGE, 0, 0, "value for impute = \"constant\""},
    {"scale", CFG_ENUM, "\"default\"", NO_RANGE, "default|standard|minmax|none|quantile", 0,
     "numeric scaling fitted on the train split only (default: etl.default_scale); quantile: "
     "through the train quantiles to the normal distribution, docs/etl.md"},
    {"encoding", CFG_ENUM, "\"onehot\"", NO_RANGE, "onehot|index", 0,
     "categorical output: one-hot columns or one index column"},
    {"max_categories", CFG_INT, "1000", 1, 1e6, 0, 0,
     "vocabulary size cap (rarer values go to the unknown slot)"},
    {0},
};

static const cfg_key etl_keys[] = {
    {"input", CFG_STRING_LIST, "[\"hpcml-out/raw/*.csv\"]", NO_RANGE, 0, 0,
     "input CSV files: paths or globs (.csv or .csv.gz)"},
    {"output", CFG_STRING, "\"hpcml-out/dataset.h5\"", NO_RANGE, 0, 0,
     "the parallel HDF5 dataset; <stem>.quality.json, .profile.json, .trace.json go beside it"},
    {"split_mode", CFG_ENUM, "\"auto\"", NO_RANGE, "auto|bytes|files", 0,
     "bytes: plain files cut into byte ranges (gzip files stay whole); files: whole files shared by "
     "size; auto: the same as bytes"},
    {"check_manifest", CFG_ENUM, "\"auto\"", NO_RANGE, "auto|require|off", 0,
     "inputs beside an hpcml-gen manifest.json must be its complete, unchanged shards (sizes, "
     "SHA-256, no shard a pattern matches missing); require: the manifest must exist; "
     "docs/etl.md"},
    {"header", CFG_BOOL, "true", NO_RANGE, 0, 0, "the first (non-junk) line holds column names"},
    {"column_names", CFG_STRING_LIST, "[]", NO_RANGE, 0, 0, "names when header = false"},
    {"delimiter", CFG_STRING, "\"\"", NO_RANGE, 0, 0,
     "field separator, may be several characters; \"\" (unset) detects it from the first file's "
     "first records among , ; tab | and each followed by a space"},
    {"quote", CFG_STRING, "\"\\\"\"", NO_RANGE, 0, 0, "quote character (RFC 4180)"},
    {"trim_spaces", CFG_BOOL, "true", NO_RANGE, 0, 0, "strip spaces around unquoted fields"},
    {"null_markers", CFG_STRING_LIST, "[\"\", \"NA\", \"?\", \"null\", \"unknown\"]", NO_RANGE, 0, 0,
     "field texts that mean null"},
    {"skip_lines", CFG_INT, "0", 0, 1e6, 0, 0, "junk lines skipped at the start of every file"},
    {"skip_prefix", CFG_STRING, "\"\"", NO_RANGE, 0, 0,
     "lines starting with this text are skipped (\"\": none)"},
    {"columns", CFG_GROUPS, "()", NO_RANGE, 0, etl_column_fields,
     "the schema: one group per column; unlisted columns use etl.default_type"},
    {"default_type", CFG_ENUM, "\"float\"", NO_RANGE, "float|int|category|ignore|error", 0,
     "type of columns not in etl.columns (error: unlisted columns are an error)"},
    {"default_scale", CFG_ENUM, "\"standard\"", NO_RANGE, "standard|minmax|none|quantile", 0,
     "scaling of numeric columns whose scale is \"default\" (and of unlisted ones)"},
    {"n_quantiles", CFG_INT, "1000", 2, 1e6, 0, 0,
     "scale = \"quantile\": quantiles fitted per column (fewer when the train split has fewer "
     "values), as scikit-learn's QuantileTransformer n_quantiles"},
    {"label", CFG_STRING, "\"Class\"", NO_RANGE, 0, 0, "the label column"},
    {"positive_labels", CFG_STRING_LIST, "[\"1\"]", NO_RANGE, 0, 0,
     "label texts of the positive class"},
    {"negative_labels", CFG_STRING_LIST, "[\"0\"]", NO_RANGE, 0, 0,
     "label texts of the negative class; any other label is bad data"},
    {"key_columns", CFG_STRING_LIST, "[]", NO_RANGE, 0, 0,
     "unique key: duplicates are removed globally, first occurrence kept"},
    {"min_records", CFG_INT, "1", 0, 9e15, 0, 0, "fewer valid rows than this is an error"},
    {"on_bad_value", CFG_ENUM, "\"error\"", NO_RANGE, "error|drop", 0,
     "unparseable value: stop with file:line:column, or drop the row and count it"},
    {"on_null_violation", CFG_ENUM, "\"drop\"", NO_RANGE, "warn|drop|error", 0,
     "null in a non-nullable column"},
    {"median", CFG_ENUM, "\"exact\"", NO_RANGE, "exact|approx", 0,
     "median imputation: exact (distributed selection) or approximate (histogram, bounded error)"},
    {"train_fraction", CFG_FLOAT, "0.7", 0, 1, 0, 0, "share of rows in /train"},
    {"val_fraction", CFG_FLOAT, "0.15", 0, 1, 0, 0, "share of rows in /val (the rest is /test)"},
    {"split_seed", CFG_INT, "7", 0, 9.2e18, 0, 0, "seed of the per-row split hash"},
    {"split_key", CFG_STRING, "\"\"", NO_RANGE, 0, 0,
     "column whose value decides the split (\"\": the global row number)"},
    {"stratify", CFG_BOOL, "true", NO_RANGE, 0, 0, "keep class shares equal across splits"},
    {"resample", CFG_ENUM, "\"none\"", NO_RANGE, "none|undersample|oversample", 0,
     "rebalance the train split"},
    {"resample_ratio", CFG_FLOAT, "1.0", 0.001, 1000, 0, 0,
     "target minority:majority ratio after resampling"},
    {"class_weights", CFG_ENUM, "\"balanced\"", NO_RANGE, "balanced|none", 0,
     "balanced: n / (classes * count), stored for the trainer"},
    {"chunk_rows", CFG_INT, "16384", 1, 1e9, 0, 0, "HDF5 chunk height of X and y"},
    {"read_buffer_mb", CFG_INT, "64", 1, 4096, 0, 0, "per-rank read buffer"},
    {"infer_sample_rows", CFG_INT, "10000", 10, 1e9, 0, 0, "rows read by --infer-schema"},
    {0},
};

/* ---- train: data-parallel MLP ---------------------------------------------- */
static const cfg_key train_keys[] = {
    {"dataset", CFG_STRING, "\"hpcml-out/dataset.h5\"", NO_RANGE, 0, 0, "the ETL's HDF5 file"},
    {"output_dir", CFG_STRING, "\"hpcml-out/train\"", NO_RANGE, 0, 0,
     "checkpoints/, metrics.jsonl, evaluation.json, profile.json, trace.json"},
    {"seed", CFG_INT, "42", 0, 9.2e18, 0, 0, "initialization, sampler and dropout seed"},
    {"hidden", CFG_INT_LIST, "[256, 128]", 1, 1e6, 0, 0, "hidden layer widths"},
    {"activation", CFG_ENUM, "\"relu\"", NO_RANGE, "relu|gelu", 0, "hidden activation"},
    {"dropout", CFG_FLOAT, "0.3", 0, 0.99, 0, 0, "inverted dropout after each hidden layer"},
    {"optimizer", CFG_ENUM, "\"adam\"", NO_RANGE, "adam|adamw|sgd", 0, "optimizer"},
    {"lr", CFG_FLOAT, "0.001", 1e-12, 100, 0, 0, "learning rate"},
    {"momentum", CFG_FLOAT, "0.9", 0, 1, 0, 0, "SGD momentum"},
    {"nesterov", CFG_BOOL, "false", NO_RANGE, 0, 0, "SGD Nesterov momentum"},
    {"beta1", CFG_FLOAT, "0.9", 0, 1, CFG_OPEN_MAX, 0,
     "Adam beta1 (1 would divide by 0 in the bias correction)"},
    {"beta2", CFG_FLOAT, "0.999", 0, 1, CFG_OPEN_MAX, 0,
     "Adam beta2 (1 would divide by 0 in the bias correction)"},
    {"eps", CFG_FLOAT, "1e-08", 0, 1, CFG_OPEN_MIN, 0, "Adam epsilon (0 divides by 0 where v is 0)"},
    {"weight_decay", CFG_FLOAT, "0.0", 0, 10, 0, 0, "L2 (SGD, Adam) or decoupled (AdamW) decay"},
    {"batch_size", CFG_INT, "512", 1, 1e8, 0, 0, "global batch size (split over ranks)"},
    {"epochs", CFG_INT, "20", 1, 1e6, 0, 0, "maximum epochs"},
    {"lr_schedule", CFG_ENUM, "\"constant\"", NO_RANGE, "constant|step|cosine", 0,
     "learning-rate schedule"},
    {"lr_step_epochs", CFG_INT, "10", 1, 1e6, 0, 0, "step schedule: epochs between decays"},
    {"lr_gamma", CFG_FLOAT, "0.1", 0, 1, 0, 0, "step schedule: decay factor"},
    {"warmup_epochs", CFG_FLOAT, "0.0", 0, 1e6, 0, 0, "linear warm-up length (0: none)"},
    {"lr_scaling", CFG_ENUM, "\"none\"", NO_RANGE, "none|linear", 0,
     "linear: lr * batch_size / lr_base_batch (Goyal et al. 2017)"},
    {"lr_base_batch", CFG_INT, "256", 1, 1e8, 0, 0, "reference batch of the linear scaling rule"},
    {"grad_clip_norm", CFG_FLOAT, "0.0", 0, 1e12, 0, 0, "clip by global norm (0: off)"},
    {"class_weights", CFG_ENUM, "\"none\"", NO_RANGE, "none|dataset|config", 0,
     "loss class weights: none, the dataset's /meta, or train.class_weight_values"},
    {"class_weight_values", CFG_FLOAT_LIST, "[]", 0, 1e12, 0, 0, "weights per class"},
    {"drop_last", CFG_BOOL, "false", NO_RANGE, 0, 0,
     "drop the last partial batch (false: pad by wrap-around)"},
    {"early_stopping_metric", CFG_ENUM, "\"val_auc\"", NO_RANGE,
     "val_loss|val_auc|val_pr_auc|val_f1|val_accuracy", 0, "metric watched for early stopping and the best checkpoint"},
    {"early_stopping_patience", CFG_INT, "0", 0, 1e6, 0, 0, "epochs without improvement (0: off)"},
    {"checkpoint_every", CFG_INT, "1", 0, 1e6, 0, 0, "epochs between checkpoints (0: only best and final)"},
    {"keep_checkpoints", CFG_INT, "3", 1, 1e6, 0, 0, "periodic checkpoints kept"},
    {"resume", CFG_ENUM, "\"auto\"", NO_RANGE, "auto|never", 0,
     "auto: continue from the newest valid checkpoint"},
    {"threshold", CFG_FLOAT, "0.5", 0, 1, 0, 0, "decision threshold for precision/recall/F1"},
    {"blas_threads", CFG_INT, "0", 0, 4096, 0, 0,
     "OpenBLAS threads per rank (0: the cores Slurm or the machine gives each rank)"},
    {"device", CFG_ENUM, "\"cpu\"", NO_RANGE, "cpu|cuda|auto", 0,
     "compute backend: cuda needs a GPU per rank (exit 1 without); auto falls back to the CPU"},
    {"cuda_math", CFG_ENUM, "\"fp32\"", NO_RANGE, "fp32|tf32|bf16", 0,
     "GPU GEMM inputs: fp32, or rounded to TF32/BF16 on tensor cores (float32 weights and sums)"},
    {"streaming", CFG_BOOL, "false", NO_RANGE, 0, 0,
     "stream /train from the file window by window with read-ahead instead of loading each "
     "rank's shard (data larger than memory; chunk-level shuffle, see docs/train.md)"},
    {"stream_chunk_rows", CFG_INT, "4096", 1, 1e9, 0, 0,
     "streaming: rows per chunk, the unit whose order is shuffled each epoch"},
    {"stream_window_batches", CFG_INT, "64", 1, 1e6, 0, 0,
     "streaming: global batches per shuffle window (rows are shuffled within a window; memory "
     "per rank is about 6 windows / ranks of rows)"},
    {"replicate_max_mb", CFG_INT, "256", 0, 1e9, 0, 0,
     "memory mode: when /train is at most this many MB, every rank holds all of it and gathers "
     "its rows locally each epoch instead of exchanging them (same batches; 0: always shard)"},
    {"bucket_kb", CFG_INT, "1024", 1, 1e7, 0, 0, "gradient allreduce bucket size"},
    {"preempt_signal", CFG_ENUM, "\"USR1\"", NO_RANGE, "USR1|USR2|TERM", 0,
     "signal that asks for checkpoint-and-exit (SIGTERM is always honoured)"},
    {"evaluate", CFG_BOOL, "true", NO_RANGE, 0, 0, "evaluate on /test after training"},
    {0},
};

/* ---- sweep: ASHA ------------------------------------------------------------ */
static const cfg_key sweep_space_fields[] = {
    {"key", CFG_STRING, 0, NO_RANGE, 0, 0, "the train.* key searched, e.g. \"train.lr\""},
    {"dist", CFG_ENUM, 0, NO_RANGE, "uniform|loguniform|quniform|randint|choice|fixed", 0,
     "distribution"},
    {"low", CFG_FLOAT, "0.0", NO_RANGE, 0, 0, "lower bound"},
    {"high", CFG_FLOAT, "1.0", NO_RANGE, 0, 0, "upper bound (exclusive for randint)"},
    {"q", CFG_FLOAT, "1.0", 0, 1e300, 0, 0, "quniform step"},
    {"values", CFG_ANY, "()", NO_RANGE, 0, 0, "choice: the values (numbers, strings or lists); fixed: one value"},
    {0},
};

static const cfg_key sweep_keys[] = {
    {"trials", CFG_INT, "100", 1, 1e7, 0, 0, "number of sampled configurations"},
    {"seed", CFG_INT, "0", 0, 9.2e18, 0, 0,
     "trial i's configuration is a function of (seed, i), with TPE of (seed, i, the journal read)"},
    {"scheduler", CFG_ENUM, "\"asha\"", NO_RANGE, "asha|asha_promotion|none", 0,
     "asha: Ray Tune's AsyncHyperBand stopping rule; asha_promotion: the ASHA paper's promotions "
     "(pool mode); none: every trial to max_t"},
    {"metric", CFG_STRING, "\"val_auc\"", NO_RANGE, 0, 0, "metrics.jsonl field compared at rungs"},
    {"mode", CFG_ENUM, "\"max\"", NO_RANGE, "max|min", 0, "whether larger metric values are better"},
    {"max_t", CFG_INT, "20", 1, 1e9, 0, 0, "maximum epochs of a trial"},
    {"grace_period", CFG_INT, "1", 1, 1e9, 0, 0, "epochs before the first rung"},
    {"reduction_factor", CFG_FLOAT, "4.0", 1.0001, 1e6, 0, 0, "rung spacing and keep share 1/rf"},
    {"output_dir", CFG_STRING, "\"hpcml-out/sweep\"", NO_RANGE, 0, 0,
     "journal, trial directories, results.csv, best.cfg, plot"},
    {"space", CFG_GROUPS, "()", NO_RANGE, 0, sweep_space_fields, "the search space"},
    {"max_parallel", CFG_INT, "8", 1, 1e6, 0, 0, "array throttle: --array=0-(trials-1)%max_parallel"},
    {"ranks_per_trial", CFG_INT, "1", 1, 1e6, 0, 0, "pool mode: ranks in each trial's group"},
    {"heartbeat_timeout_s", CFG_FLOAT, "600.0", 1, 1e9, 0, 0,
     "a running trial silent this long is marked failed"},
    {"lock_stale_s", CFG_FLOAT, "60.0", 0.1, 1e9, 0, 0, "journal lock older than this is broken"},
    {"search", CFG_ENUM, "\"tpe\"", NO_RANGE, "random|tpe", 0,
     "tpe: Optuna 3.1's TPE over the journal's history when trial i begins (the default: "
     "benchmarks/search_vs_optuna.sh); random: trial i's values are a function of (seed, i)"},
    {"tpe_n_startup_trials", CFG_INT, "10", 0, 1e7, 0, 0,
     "tpe: random values until this many trials have completed or been stopped"},
    {"tpe_n_ei_candidates", CFG_INT, "24", 1, 1e6, 0, 0,
     "tpe: candidates drawn from l(x) per suggestion"},
    {"tpe_prior_weight", CFG_FLOAT, "1.0", 1e-12, 1e12, 0, 0, "tpe: weight of the prior kernel"},
    {"tpe_consider_magic_clip", CFG_BOOL, "true", NO_RANGE, 0, 0,
     "tpe: smallest bandwidth (high - low) / min(100, 1 + kernels)"},
    {"tpe_consider_endpoints", CFG_BOOL, "false", NO_RANGE, 0, 0,
     "tpe: the range's ends count as neighbours for the outer kernels' bandwidths"},
    {"tpe_multivariate", CFG_BOOL, "false", NO_RANGE, 0, 0,
     "tpe: one joint estimator over all parameters (Scott's rule bandwidths) instead of one "
     "per parameter"},
    {0},
};

/* ---- resources: Slurm requests ---------------------------------------------- */
static const cfg_key resources_keys[] = {
    {"partition", CFG_STRING, "\"\"", NO_RANGE, 0, 0, "sbatch --partition (\"\": cluster default)"},
    {"account", CFG_STRING, "\"\"", NO_RANGE, 0, 0, "sbatch --account"},
    {"nodes", CFG_INT, "1", 1, 1e6, 0, 0, "nodes per job"},
    {"ntasks_per_node", CFG_INT, "2", 1, 1e6, 0, 0, "MPI ranks per node"},
    {"cpus_per_task", CFG_INT, "1", 1, 4096, 0, 0, "cores per rank"},
    {"gpus_per_task", CFG_INT, "0", 0, 64, 0, 0, "GPUs per rank"},
    {"mem", CFG_STRING, "\"\"", NO_RANGE, 0, 0, "sbatch --mem (\"\": cluster default)"},
    {"time", CFG_STRING, "\"01:00:00\"", NO_RANGE, 0, 0, "sbatch --time"},
    {"gen_time", CFG_STRING, "\"\"", NO_RANGE, 0, 0,
     "time limit of the hpcml-gen job (\"\": resources.time)"},
    {"etl_time", CFG_STRING, "\"\"", NO_RANGE, 0, 0,
     "time limit of the hpcml-etl job (\"\": resources.time)"},
    {"train_time", CFG_STRING, "\"\"", NO_RANGE, 0, 0,
     "time limit of the hpcml-train job (\"\": resources.time)"},
    {"sweep_ntasks", CFG_INT, "1", 1, 1e6, 0, 0, "ranks per sweep array task"},
    {"sweep_time", CFG_STRING, "\"00:30:00\"", NO_RANGE, 0, 0, "time limit of one sweep task"},
    {"signal_grace_s", CFG_INT, "60", 1, 86400, 0, 0, "--signal=B:USR1@grace before the time limit"},
    {"requeue", CFG_BOOL, "true", NO_RANGE, 0, 0, "requeue preempted train and sweep jobs"},
    {"max_retries", CFG_INT, "2", 0, 100, 0, 0, "retries of transient failures (I/O, node)"},
    {"retry_backoff_s", CFG_FLOAT, "30.0", 0, 86400, 0, 0, "first retry delay, doubled each time"},
    {"launcher", CFG_ENUM, "\"auto\"", NO_RANGE, "auto|srun|mpirun", 0,
     "MPI launcher inside the job (auto: srun --mpi=pmix when Slurm and Open MPI have PMIx, "
     "else mpirun)"},
    {"log_dir", CFG_STRING, "\"hpcml-out/slurm\"", NO_RANGE, 0, 0,
     "slurm/pipeline.sh: job logs and stage markers (*.done)"},
    {0},
};

/* ---- predict: scoring new data with a model package ------------------------- */
static const cfg_key predict_keys[] = {
    {"model", CFG_STRING, "\"hpcml-out/train/model.h5\"", NO_RANGE, 0, 0,
     "the model package written by hpcml-train (docs/formats.md)"},
    {"input", CFG_STRING_LIST, "[\"hpcml-out/new/*.csv\"]", NO_RANGE, 0, 0,
     "CSV files to score (paths or globs, .csv.gz too), read with the model's CSV dialect"},
    {"output", CFG_STRING, "\"hpcml-out/predict/predictions.csv\"", NO_RANGE, 0, 0,
     "predictions, one row per input record in input order: .csv or .h5 by the extension; "
     "predict_quality.json and rejects.csv go beside it"},
    {"id_columns", CFG_STRING_LIST, "[]", NO_RANGE, 0, 0,
     "input columns copied through unchanged into the output"},
    {"threshold", CFG_FLOAT, "-1.0", -1, 1, 0, 0,
     "decision threshold on P(class 1); -1: the model's own"},
    {"on_bad_row", CFG_ENUM, "\"error\"", NO_RANGE, "error|skip", 0,
     "a record that does not parse or validate: error = exit 2 naming FILE:LINE:COLUMN; skip = "
     "write it to rejects.csv with its file, line and reason, and count it"},
    {"unseen", CFG_ENUM, "\"unknown\"", NO_RANGE, "unknown|error", 0,
     "a category not in the training vocabulary: unknown = its unknown slot, counted in "
     "predict_quality.json; error = exit 2 naming FILE:LINE"},
    {"batch_rows", CFG_INT, "65536", 2048, 1e9, 0, 0,
     "records a rank holds at a time: the input is read in batches of this many (twice: "
     "counts first, then scores), so memory does not grow with the input"},
    {"metrics", CFG_BOOL, "true", NO_RANGE, 0, 0,
     "when every scored record has a label, write evaluation.json's metrics into "
     "predict_quality.json; keeps the encoded rows (4 bytes x features per record): false "
     "scores labelled input in constant memory too"},
    {0},
};

static const cfg_key export_keys[] = {
    {"model", CFG_STRING, "\"hpcml-out/train/model.h5\"", NO_RANGE, 0, 0,
     "the model package to export (docs/formats.md); --model on the command line wins"},
    {"output", CFG_STRING, "\"hpcml-out/export/model.onnx\"", NO_RANGE, 0, 0,
     "the ONNX file written (temp name, fsync, rename); -o on the command line wins"},
    {"network_only", CFG_BOOL, "false", NO_RANGE, 0, 0,
     "true: the network alone, input the transformed feature row [N, n_features]; false: "
     "the training transform too, one input per raw column (docs/export.md)"},
    {0},
};

/* ---- monitoring: alerts and profiling --------------------------------------- */
static const cfg_key alert_fields[] = {
    {"metric", CFG_STRING, 0, NO_RANGE, 0, 0,
     "metrics.jsonl field (checked every epoch by hpcml-train), or drift_share, drifted_columns, "
     "dataset_drift (checked by hpcml-predict after its drift check)"},
    {"threshold", CFG_FLOAT, 0, NO_RANGE, 0, 0, "alert when the metric crosses it"},
    {"direction", CFG_ENUM, "\"above\"", NO_RANGE, "above|below", 0, "which side is bad"},
    {"window", CFG_INT, "1", 1, 1e6, 0, 0, "consecutive epochs on the bad side"},
    {"action", CFG_ENUM, "\"warn\"", NO_RANGE, "warn|stop", 0, "stop: end training after the alert"},
    {0},
};

static const cfg_key monitoring_keys[] = {
    {"alerts", CFG_GROUPS, "()", NO_RANGE, 0, alert_fields, "alert rules on epoch metrics"},
    {"profile", CFG_BOOL, "true", NO_RANGE, 0, 0, "write profile.json"},
    {"trace", CFG_BOOL, "true", NO_RANGE, 0, 0, "write trace.json (Chrome trace events)"},
    {"numeric_method", CFG_ENUM, "\"auto\"", NO_RANGE, "auto|ks|psi|jensenshannon", 0,
     "drift test of numeric columns; auto: ks when the new data has <= auto_max_rows values, "
     "else jensenshannon (docs/drift.md)"},
    {"categorical_method", CFG_ENUM, "\"auto\"", NO_RANGE, "auto|chisquare|psi|jensenshannon", 0,
     "drift test of categorical columns; auto: chisquare up to auto_max_rows values, else "
     "jensenshannon"},
    {"auto_max_rows", CFG_INT, "1000", 0, 9e15, 0, 0,
     "method auto: statistical tests up to this many new values per column, distances above"},
    {"ks_threshold", CFG_FLOAT, "0.05", 0, 1, 0, 0, "ks: a column drifts when the p-value < this"},
    {"chisquare_threshold", CFG_FLOAT, "0.05", 0, 1, 0, 0,
     "chisquare: a column drifts when the p-value < this"},
    {"psi_threshold", CFG_FLOAT, "0.1", 0, 1e300, 0, 0, "psi: a column drifts when PSI >= this"},
    {"jensenshannon_threshold", CFG_FLOAT, "0.1", 0, 1, 0, 0,
     "jensenshannon: a column drifts when the distance (base 2, 0..1) >= this"},
    {"bins", CFG_INT, "20", 1, 10000, 0, 0,
     "numeric PSI / Jensen-Shannon: bins at reference quantiles (plus out-of-range bins)"},
    {"drift_share", CFG_FLOAT, "0.5", 0, 1, 0, 0,
     "the dataset drifts when at least this share of its columns drift"},
    {"retrain_on_drift", CFG_BOOL, "false", NO_RANGE, 0, 0,
     "slurm/monitor.sh: a drifted dataset submits the retraining chain"},
    {0},
};

/* ---- report: a run's files -> report.html ------------------------------------ */
static const cfg_key report_keys[] = {
    {"output", CFG_STRING, "\"hpcml-out/report.html\"", NO_RANGE, 0, 0,
     "the self-contained HTML report (inputs are found through etl.output, train.output_dir, "
     "sweep.output_dir, gen.output_dir)"},
    {"title", CFG_STRING, "\"hpcml run report\"", NO_RANGE, 0, 0, "the page's title"},
    {"predictions", CFG_STRING, "\"\"", NO_RANGE, 0, 0,
     "predictions file of the evaluation section (\"\": train.output_dir/predictions.h5)"},
    {"drift", CFG_STRING, "\"hpcml-out/predict/drift.json\"", NO_RANGE, 0, 0,
     "drift.json of hpcml-predict; the drift section is shown when it exists"},
    {0},
};

const cfg_section hpcml_config_schema[] = {
    {"gen", "hpcml-gen: synthetic fraud-like CSV shards", gen_keys},
    {"etl", "hpcml-etl: CSV to a validated, transformed parallel HDF5 dataset", etl_keys},
    {"train", "hpcml-train: data-parallel MLP training", train_keys},
    {"sweep", "hpcml-sweep: ASHA hyperparameter sweeps", sweep_keys},
    {"predict", "hpcml-predict: score new CSV data with a model package", predict_keys},
    {"export", "hpcml-export: model.h5 and its transform as one ONNX graph", export_keys},
    {"resources", "Slurm resource requests used by slurm/pipeline.sh", resources_keys},
    {"monitoring", "alert rules, profiling outputs and data-drift detection", monitoring_keys},
    {"report", "hpcml-report: one self-contained HTML page per pipeline run", report_keys},
    {0},
};
