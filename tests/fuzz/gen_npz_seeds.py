#!/usr/bin/python3
"""gen_npz_seeds.py: writes the seed corpus of the .npz fuzz harness
(tests/fuzz/fuzz_npz.c) into tests/fuzz/corpus/npz/, with NumPy's own
writers: np.savez and np.savez_compressed of every dtype the reader loads,
a Fortran-order array, a 0-d unicode array, an object array (listed, not
loaded), .npy headers of versions 1, 2 and 3, and the layout of a grok
export's run.npz (arrays stacked over 'epochs', meta.* strings).  Run once
from the repository root: /usr/bin/python3 tests/fuzz/gen_npz_seeds.py"""
import io
import os
import zipfile

import numpy as np

OUT = "tests/fuzz/corpus/npz"
rng = np.random.default_rng(15)


def save(name, compressed=False, **arrays):
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    with open(os.path.join(OUT, "seed-" + name), "wb") as f:
        f.write(buf.getvalue())


def save_versions(name):
    """One entry per .npy header version, stored, written by numpy.lib.format."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for v in (1, 2, 3):
            a = np.arange(6, dtype="<f4").reshape(2, 3) * v
            b = io.BytesIO()
            np.lib.format.write_array(b, a, version=(v, 0))
            z.writestr(f"v{v}.npy", b.getvalue())
    with open(os.path.join(OUT, "seed-" + name), "wb") as f:
        f.write(buf.getvalue())


os.makedirs(OUT, exist_ok=True)
save("dtypes.npz", f4=rng.standard_normal((3, 4)).astype("<f4"),
     f8=rng.standard_normal(5), f2=np.array([1.5, -2.0, np.inf], dtype="<f2"),
     i4=np.arange(4, dtype="<i4"), i8=np.arange(3, dtype="<i8"),
     u1=np.arange(7, dtype="u1"), scalar=np.float32(3.0))
save("compressed.npz", compressed=True,
     fortran=np.asfortranarray(rng.standard_normal((3, 2, 2)).astype("<f4")),
     text=np.array("modular p = 7 \u00e9\u2203\U0001f600"), empty=np.zeros((0, 3), "<f4"))
save("object.npz", obj=np.array([1, "x"], dtype=object), big=np.array([1], dtype=">f4"))
save_versions("versions.npz")
C, d = 2, 4
save("export-run.npz", compressed=True, epochs=np.array([0, 10], dtype="<i8"),
     **{"embed.W_E": rng.standard_normal((C, 7, d)).astype("<f4"),
        "unembed.W_U": rng.standard_normal((C, d, 7)).astype("<f4"),
        "metrics.epoch": np.arange(3, dtype="<i8"),
        "meta.format": np.array("grok-export 1"),
        "meta.config": np.array('task = { kind = "modular"; p = 7; };\n'),
        "meta.tl_config": np.array('{"n_layers": 1, "d_model": 4}')})
