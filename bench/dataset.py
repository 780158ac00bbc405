"""Deterministic benchmark data set for ``bench/engine``.

Everything here is a pure function of ``(seed, total_bytes)``: the plan (which
files, which sizes), the content of every file, and the "about 1 % changed"
modification applied between the full and the incremental backup.  Because
every file's content is derived from its own seed, the change can be undone by
regenerating just the touched files, so a data set is generated once and then
reused across runs.

Composition (fractions of the logical total):

* ~33 % text-like files (code/log-like lines from a Zipf-weighted vocabulary,
  4 KiB .. 8 MiB, log-uniform sizes) in ``text/``
* ~29 % incompressible random data, four large files in ``random/``
* ~10 % small files (0.5 .. 16 KiB, text or binary) in nested folders of
  ``small/`` (>= 5000 of them at 1 GiB)
* ~25 % one disk image ``image/disk.img`` (1 MiB blocks: long zero runs,
  mixed 4 KiB pages of data/text/zeros, and the same few 1 MiB blocks repeated
  at several offsets); written non-sparse, logical size counts
* ~3 % exact duplicates of other files in ``dup/``

Only the standard library is used (no numpy).  ``random.Random`` seeded with a
string is stable across CPython versions (it seeds from SHA-512 of the
string), and ``randbytes``/``choices`` are fast enough for ~1 GiB in seconds.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

GEN_VERSION = 1
KIB = 1024
MIB = 1024 * 1024
BLOCK = MIB
PAGE = 4 * KIB

TOP_DIRS = ("text", "random", "small", "image", "dup")
MARKER = "dataset.json"


@dataclass(frozen=True)
class FileSpec:
    rel: str  # path relative to the data set root, "/"-separated
    kind: str  # text | random | small-text | small-bin | image | dup
    size: int
    src: str = ""  # for kind == "dup": rel path of the original


@dataclass
class Plan:
    seed: str
    total: int
    files: list[FileSpec]

    def by_rel(self) -> dict[str, FileSpec]:
        return {f.rel: f for f in self.files}


@dataclass
class ChangePlan:
    appends: list[tuple[str, int]] = field(default_factory=list)  # rel, nbytes
    overwrites: list[tuple[str, int, int]] = field(default_factory=list)  # rel, offset, nbytes
    new_files: list[tuple[str, int]] = field(default_factory=list)  # rel, size

    @property
    def touched(self) -> set[str]:
        return {r for r, _ in self.appends} | {r for r, _, _ in self.overwrites}

    @property
    def nbytes(self) -> int:
        return (
            sum(n for _, n in self.appends)
            + sum(n for _, _, n in self.overwrites)
            + sum(n for _, n in self.new_files)
        )


# --------------------------------------------------------------------------- text


_KEYWORDS = (
    "def return if else elif for while in not and or import from class self None True False "
    "try except finally with as yield lambda pass raise assert async await const let var "
    "function struct impl pub fn match enum type int str bytes list dict len range print "
    "= == != <= >= + - * / % ( ) [ ] { } : , . -> => # // /* */ ; 0 1 2 10 100 0x00 "
    "INFO DEBUG WARN ERROR request response user id path status ms bytes ok failed retry"
).split()
_LETTERS = "abcdefghijklmnopqrstuvwxyz_"
_POOL_CACHE: dict[str, tuple[list[str], float]] = {}


def _line_pool(seed: str) -> tuple[list[str], float]:
    """A pool of ~200k code-like and log-like lines, and their mean length."""
    if seed in _POOL_CACHE:
        return _POOL_CACHE[seed]
    rng = random.Random(f"{seed}/vocab")
    words: set[str] = set()
    while len(words) < 6000:
        n = rng.choice((2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 8, 9, 10, 12))
        words.add("".join(rng.choices(_LETTERS, k=n)))
    vocab = _KEYWORDS + sorted(words)
    rng.shuffle(vocab)
    cum: list[float] = []
    acc = 0.0
    for i in range(len(vocab)):
        acc += 1.0 / (i + 1) ** 1.05
        cum.append(acc)

    n_lines = 200_000
    lens = [rng.randint(1, 14) for _ in range(n_lines)]
    stream = rng.choices(vocab, cum_weights=cum, k=sum(lens))
    comps = ("api", "db", "auth", "sched", "store", "net", "cache", "gc")
    levels = ("INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR")
    pool: list[str] = []
    pos = 0
    for i, n in enumerate(lens):
        ws = " ".join(stream[pos : pos + n])
        pos += n
        if i % 3 == 0:  # log line
            pool.append(
                f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}."
                f"{rng.randint(0, 999):03d}Z {rng.choice(levels)} [{rng.choice(comps)}-"
                f"{rng.randint(0, 31)}] {ws} id={rng.getrandbits(48):012x} "
                f"took={rng.randint(0, 5000)}ms\n"
            )
        else:  # code-like line
            pool.append(" " * (4 * rng.choice((0, 0, 1, 1, 1, 2, 2, 3, 4))) + ws + "\n")
    mean = sum(len(s) for s in pool) / len(pool)
    _POOL_CACHE[seed] = (pool, mean)
    return pool, mean


def _text_bytes(seed: str, rng: random.Random, size: int) -> bytes:
    pool, mean = _line_pool(seed)
    out = bytearray()
    while len(out) < size:
        k = int((size - len(out)) / mean * 1.05) + 8
        out += "".join(rng.choices(pool, k=k)).encode()
    del out[size:]
    return bytes(out)


# --------------------------------------------------------------------------- plan


def make_plan(seed: str, total: int) -> Plan:
    """Which files exist and how big they are; cheap (no content)."""
    rng = random.Random(f"{seed}/plan")
    files: list[FileSpec] = []

    # random data: four large files, 40/30/20/10 %
    rnd_total = int(total * 0.29)
    rnd_sizes = [int(rnd_total * f) for f in (0.40, 0.30, 0.20)]
    rnd_sizes.append(rnd_total - sum(rnd_sizes))
    for i, s in enumerate(rnd_sizes):
        files.append(FileSpec(f"random/blob-{i}.bin", "random", s))

    # disk image: whole MiB blocks
    img_size = max(BLOCK, (int(total * 0.25) // BLOCK) * BLOCK)
    files.append(FileSpec("image/disk.img", "image", img_size))

    # small files in nested folders
    small_total = int(total * 0.10)
    acc = 0
    i = 0
    while acc < small_total:
        s = min(rng.randint(512, 16 * KIB), small_total - acc)
        kind = "small-text" if rng.random() < 0.7 else "small-bin"
        ext = rng.choice((".py", ".txt", ".json", ".md", ".log")) if kind == "small-text" else ".dat"
        g, leaf = i // 1000, (i // 50) % 20
        sub = f"small/g{g:02d}/s{leaf:02d}" + ("/deep/er" if leaf % 7 == 3 else "")
        files.append(FileSpec(f"{sub}/f{i:05d}{ext}", kind, s))
        acc += s
        i += 1

    # text: the first three are also duplicated (sizes 64 KiB .. 1 MiB)
    head = [rng.randint(64 * KIB, MIB) for _ in range(3)]
    dup_src_rnd = files[3]  # the smallest random blob is duplicated too
    used = sum(f.size for f in files)
    text_total = total - used - dup_src_rnd.size - sum(head)  # text originals + text dups fit exactly
    text_sizes = list(head)
    acc = sum(head)
    lo, hi = math.log(4 * KIB), math.log(8 * MIB)
    while acc < text_total:
        s = int(math.exp(rng.uniform(lo, hi)))
        s = min(s, text_total - acc)
        text_sizes.append(s)
        acc += s
    text_files = []
    for i, s in enumerate(text_sizes):
        kind_dir = ("src", "logs", "docs")[i % 3]
        ext = (".py", ".log", ".txt")[i % 3]
        text_files.append(FileSpec(f"text/{kind_dir}/{i // 40:02d}/t{i:04d}{ext}", "text", s))
    files.extend(text_files)

    # duplicates
    files.append(FileSpec("dup/blob-3-copy.bin", "dup", dup_src_rnd.size, dup_src_rnd.rel))
    for j, src in enumerate(text_files[:3]):
        files.append(FileSpec(f"dup/copy-{j}-{src.rel.rsplit('/', 1)[1]}", "dup", src.size, src.rel))
    return Plan(seed, total, files)


def make_change_plan(plan: Plan) -> ChangePlan:
    """About 1 % of the logical bytes: appends, overwrites, image edits, new files."""
    rng = random.Random(f"{plan.seed}/change")
    budget = max(plan.total // 100, 64 * KIB)
    cp = ChangePlan()
    texts = [f for f in plan.files if f.kind == "text"]
    rnds = [f for f in plan.files if f.kind == "random"]
    img = next(f for f in plan.files if f.kind == "image")

    # appends to ~12 text files (30 %)
    b = int(budget * 0.30)
    picks = rng.sample(texts, min(12, len(texts)))
    for f in picks:
        cp.appends.append((f.rel, b // len(picks)))
    # overwrite 6 regions in 2 random-data files (30 %)
    b = int(budget * 0.30)
    for f in rng.sample(rnds, 2):
        for _ in range(3):
            n = min(b // 6, f.size)
            cp.overwrites.append((f.rel, rng.randrange(0, f.size - n + 1), n))
    # 24 edits in the disk image (25 %)
    b = int(budget * 0.25)
    for _ in range(24):
        n = max(1, min(b // 24, img.size))
        cp.overwrites.append((img.rel, rng.randrange(0, img.size - n + 1), n))
    # new small files (the rest, ~15 %)
    b = budget - cp.nbytes
    acc = 0
    j = 0
    while acc < b:
        s = min(rng.randint(512, 16 * KIB), b - acc)
        d = "small/new" if j % 2 == 0 else f"small/g00/s{j % 20:02d}"
        cp.new_files.append((f"{d}/n{j:04d}.txt", s))
        acc += s
        j += 1
    return cp


# --------------------------------------------------------------------------- writing


def _file_rng(seed: str, rel: str) -> random.Random:
    return random.Random(f"{seed}/file/{rel}")


def _write_image(path: Path, seed: str, size: int) -> None:
    rng = random.Random(f"{seed}/image")
    nblocks = size // BLOCK
    # a few 1 MiB template blocks repeated at several offsets
    templates = []
    for t in range(3):
        trng = random.Random(f"{seed}/image/template/{t}")
        half = _text_bytes(seed, trng, BLOCK // 2)
        templates.append(half + trng.randbytes(BLOCK // 2))
    zero = bytes(BLOCK)
    rep = 0
    with open(path, "wb") as fh:
        b = 0
        while b < nblocks:
            r = rng.random()
            if r < 0.40:  # long zero run
                n = min(rng.randint(2, 24), nblocks - b)
                for _ in range(n):
                    fh.write(zero)
            elif r < 0.80:  # data: 4 KiB pages of random / text / zeros
                n = min(rng.randint(1, 8), nblocks - b)
                for _ in range(n):
                    rnd = rng.randbytes(BLOCK)
                    txt = _text_bytes(seed, rng, BLOCK)
                    blk = bytearray(BLOCK)
                    for p in range(0, BLOCK, PAGE):
                        x = rng.random()
                        if x < 0.5:
                            blk[p : p + PAGE] = rnd[p : p + PAGE]
                        elif x < 0.85:
                            blk[p : p + PAGE] = txt[p : p + PAGE]
                    fh.write(blk)
            else:  # repeated template blocks
                n = min(rng.randint(1, 4), nblocks - b)
                for _ in range(n):
                    fh.write(templates[rep % len(templates)])
                    rep += 1
            b += n
        tail = size - nblocks * BLOCK
        if tail:
            fh.write(bytes(tail))


def write_file(root: Path, seed: str, spec: FileSpec) -> None:
    path = root / spec.rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if spec.kind == "image":
        _write_image(path, seed, spec.size)
        return
    if spec.kind == "dup":
        shutil.copyfile(root / spec.src, path)
        return
    rng = _file_rng(seed, spec.rel)
    with open(path, "wb") as fh:
        if spec.kind in ("text", "small-text"):
            left = spec.size
            while left > 0:  # stream in 4 MiB pieces to bound memory
                n = min(left, 4 * MIB)
                fh.write(_text_bytes(seed, rng, n))
                left -= n
        else:  # random, small-bin
            left = spec.size
            while left > 0:
                n = min(left, MIB)
                fh.write(rng.randbytes(n))
                left -= n


def data_dir(workdir: Path, seed: str, size_mib: int) -> Path:
    """One directory per (size, seed), so a --quick run does not evict the full data set."""
    tag = seed if seed.isalnum() and len(seed) <= 16 else hashlib.blake2b(seed.encode(), digest_size=4).hexdigest()
    return workdir / f"data-{size_mib}m-seed-{tag}"


def marker_path(root: Path) -> Path:
    return root.parent / (root.name + "." + MARKER)


def read_marker(root: Path) -> dict | None:
    try:
        return json.loads(marker_path(root).read_text())
    except (OSError, ValueError):
        return None


def _write_marker(root: Path, info: dict) -> None:
    mp = marker_path(root)
    tmp = mp.parent / (mp.name + ".tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    os.replace(tmp, mp)


def _tree_matches(root: Path, plan: Plan) -> bool:
    want = {f.rel: f.size for f in plan.files}
    have: dict[str, int] = {}
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            have[os.path.relpath(p, root).replace(os.sep, "/")] = os.path.getsize(p)
    return have == want


def ensure_dataset(workdir: Path, seed: str, size_mib: int, log=print) -> tuple[Path, Plan, str]:
    """Make ``data_dir(workdir, seed, size_mib)`` hold the clean data set; reuse or repair it.

    Returns (root, plan, how) where how is "generated", "reused" or "reverted".
    """
    workdir.mkdir(parents=True, exist_ok=True)
    root = data_dir(workdir, seed, size_mib)
    total = size_mib * MIB
    plan = make_plan(seed, total)
    want = {"version": GEN_VERSION, "seed": seed, "size_mib": size_mib}
    m = read_marker(root)
    if m and all(m.get(k) == v for k, v in want.items()) and m.get("state") in ("clean", "changing", "changed"):
        how = "reused"
        if m["state"] != "clean":
            revert_change(root, plan, make_change_plan(plan))
            how = "reverted"
        if _tree_matches(root, plan):
            _write_marker(root, {**want, "state": "clean", "files": len(plan.files), "bytes": total})
            return root, plan, how
        log("  data set on disk does not match its plan; regenerating")
    marker_path(root).unlink(missing_ok=True)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for spec in plan.files:  # dups come last, after their sources
        write_file(root, seed, spec)
    _write_marker(root, {**want, "state": "clean", "files": len(plan.files), "bytes": total})
    return root, plan, "generated"


def set_state(root: Path, state: str) -> None:
    m = read_marker(root) or {}
    m["state"] = state
    _write_marker(root, m)


def apply_change(root: Path, plan: Plan, cp: ChangePlan) -> int:
    rng = random.Random(f"{plan.seed}/change/content")
    for rel, n in cp.appends:
        with open(root / rel, "ab") as fh:
            fh.write(_text_bytes(plan.seed, rng, n))
    for rel, off, n in cp.overwrites:
        with open(root / rel, "r+b") as fh:
            fh.seek(off)
            fh.write(rng.randbytes(n))
    for rel, n in cp.new_files:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(_text_bytes(plan.seed, rng, n))
    return cp.nbytes


def revert_change(root: Path, plan: Plan, cp: ChangePlan) -> None:
    specs = plan.by_rel()
    for rel in sorted(cp.touched):
        write_file(root, plan.seed, specs[rel])
    for rel, _ in cp.new_files:
        (root / rel).unlink(missing_ok=True)
    shutil.rmtree(root / "small" / "new", ignore_errors=True)


# --------------------------------------------------------------------------- manifests


def manifest(root: Path) -> dict[str, tuple[int, str]]:
    """rel path -> (size, sha256 hex) for every regular file under root."""
    out: dict[str, tuple[int, str]] = {}
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            if not os.path.isfile(p) or os.path.islink(p):
                continue
            with open(p, "rb") as fh:
                h = hashlib.file_digest(fh, "sha256").hexdigest()
            out[os.path.relpath(p, root).replace(os.sep, "/")] = (os.path.getsize(p), h)
    return out


def describe(plan: Plan) -> dict[str, tuple[int, int]]:
    """kind group -> (file count, bytes)."""
    groups: dict[str, list[int]] = {}
    for f in plan.files:
        g = "small" if f.kind.startswith("small") else f.kind
        c = groups.setdefault(g, [0, 0])
        c[0] += 1
        c[1] += f.size
    return {k: (v[0], v[1]) for k, v in groups.items()}
