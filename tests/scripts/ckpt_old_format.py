"""ckpt_old_format.py SRC DST VERSION [--keep-stream]: a copy of the hpcml checkpoint SRC as
the trainer's format VERSION would have written it (tests of older and unknown formats).

VERSION 1: without /state/dataset_id and (unless --keep-stream) without
/sampler/stream_chunk_rows and /sampler/stream_window_batches, format_version 1 and the
checksum recomputed over the remaining items. Any other VERSION: the file unchanged but
for format_version (a format this build does not know).

The checksum is written from its definition (io/checkpoint_file.c: FNV-1a 64 over each
item's name, then [type, rank, dim0, dim1] as int64 LE, then the data bytes, each step
seeded with splitmix64's finalizer of the running hash), item by item in the trainer's
order (src/train/checkpoint.c), so this file checks that definition too."""
import shutil
import sys

import os

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from etl_adult_check import M64, mix64  # noqa: E402  (splitmix64's finalizer, rng_mix64)


def hash_bytes(data, seed):
    h = 0xCBF29CE484222325 ^ mix64(seed)
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & M64
    return mix64(h)


TYPES = {np.dtype("<f4"): 0, np.dtype("<f8"): 1, np.dtype("<i8"): 2}


def item_order(f):
    layers = f["/model_info/widths"].shape[0] - 1
    names = ["/model_info/widths", "/model_info/activation", "/model_info/dropout"]
    for k in range(layers):
        names += [f"/model/layer{k}.weight", f"/model/layer{k}.bias"]
    names += ["/optimizer/kind", "/optimizer/step"]
    names += [n for n in ("/optimizer/m", "/optimizer/v") if n in f]
    names += [f"/state/{n}" for n in ("epoch", "step_in_epoch", "global_step", "part_loss_sum",
                                      "part_weight_sum", "best_metric", "best_epoch",
                                      "bad_epochs", "stop_reason", "config_hash", "alert_run")]
    names += [f"/sampler/{n}" for n in ("seed", "rows", "global_batch", "drop_last",
                                        "steps_per_epoch", "ranks")]
    names += [n for n in ("/sampler/stream_chunk_rows", "/sampler/stream_window_batches",
                          "/state/dataset_id") if n in f]
    return names


def checksum(f):
    h = 0x6870636D6C636B70
    for name in item_order(f):
        d = f[name]
        a = np.asarray(d[()])
        dims = list(d.shape) + [0, 0]
        header = np.array([TYPES[d.dtype], len(d.shape), dims[0], dims[1]], dtype="<i8")
        h = hash_bytes(name.encode(), h)
        h = hash_bytes(header.tobytes(), h)
        h = hash_bytes(np.ascontiguousarray(a, dtype=d.dtype).tobytes(), h)
    return h


def main():
    src, dst, version = sys.argv[1], sys.argv[2], int(sys.argv[3])
    keep_stream = "--keep-stream" in sys.argv[4:]
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        assert checksum(f) == int(f.attrs["checksum"]), "the checksum definition changed"
        if version == 1:
            drop = ["/state/dataset_id"]
            if not keep_stream:
                drop += ["/sampler/stream_chunk_rows", "/sampler/stream_window_batches"]
            for name in drop:
                del f[name]
            f.attrs["checksum"] = np.uint64(checksum(f))
        f.attrs["format_version"] = np.int32(version)


main()
