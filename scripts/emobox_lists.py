"""Write hf_ser/splits_data/emobox/ from a checkout of emo-box/EmoBox (its data/<corpus>/ fold lists).

Usage: python scripts/emobox_lists.py EMOBOX_GIT_DIR [--commit REV]

Reads ``data/<corpus>/<corpus>.jsonl`` and ``data/<corpus>/fold_k/<corpus>_{train,valid,test}_fold_k.jsonl`` with
``git show`` (a bare mirror is enough), builds a fixture tree from the listed paths, loads it with the hf_ser
loader to learn each clip's ``utt_id``, label and speaker, and writes the compact lists plus ``index.json``
(see ``hf_ser.emobox``). It reports every listed file the loader does not keep; only files the loader drops on
purpose (named in the skip reason) are accepted, as ``expected_absent``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path, PurePosixPath

from hf_ser.corpora import load_corpus
from hf_ser.emobox import DATA_DIR, write_fixture_tree

# hf_ser corpus -> EmoBox data folder. MSP-Podcast is left out: the snapshot lacks its train list and EmoBox keeps
# the O (other) and X (no agreement) classes, which hf_ser's loader drops.
CORPORA = {
    "ravdess": "ravdess", "crema_d": "cremad", "emodb": "emodb", "emovo": "emovo", "iemocap": "iemocap",
    "savee": "savee", "tess": "tess", "cafe": "cafe", "aesdd": "aesdd", "shemo": "shemo", "mesd": "mesd",
    "emov_db": "emovdb", "esd": "esd", "subesco": "subesco", "urdu": "urdu", "emozionalmente": "emozionalmente",
}
# Skip reasons that mean "dropped on purpose by the loader", so an EmoBox-listed clip may be absent.
ON_PURPOSE = ("known silent file",)


def _git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, text=True).stdout


def _jsonl(repo: str, commit: str, path: str) -> list[dict] | None:
    try:
        text = _git(repo, "show", f"{commit}:{path}")
    except subprocess.CalledProcessError:
        return None  # absent (or not fetched: the largest files of a mirror may be missing)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def build(repo: str, commit: str, corpus: str, name: str) -> tuple[dict, list[str]]:
    listed = _git(repo, "ls-tree", "-r", "--name-only", commit, f"data/{name}").split()
    label_map_path = f"data/{name}/label_map.json"
    label_map = json.loads(_git(repo, "show", f"{commit}:{label_map_path}")) if label_map_path in listed else {}
    prefix = f"downloads/{name}/"
    folds = sorted({p.split("/")[2] for p in listed if p.split("/")[2].startswith("fold_")}, key=lambda f: int(f[5:]))
    entries: dict[str, list] = {}  # path -> [label, {fold: side}]
    files, missing = [], []
    for k, fold in enumerate(folds):
        for side in ("test", "train", "valid"):
            path = f"data/{name}/{fold}/{name}_{side}_{fold}.jsonl"
            if path not in listed:
                continue
            rows = _jsonl(repo, commit, path)
            if rows is None:
                missing.append(path)
                continue
            files.append(path)
            for row in rows:
                rel = row["wav"].removeprefix(prefix)
                entries.setdefault(rel, [row["emo"], {}])[1][k] = side[0] if side != "train" else "r"
    note = ""
    if missing:
        if any("_train_" not in m for m in missing):
            raise SystemExit(f"{name}: lists absent from the checkout: {missing}")
        # Train lists too large for the snapshot: in every EmoBox corpus whose lists are all present, a fold's
        # train list is exactly the corpus minus its test list; ESD's test folds partition its 35,000 clips.
        for sides in (e[1] for e in entries.values()):
            for k in range(len(folds)):
                sides.setdefault(k, "r")
        note = f"train lists absent from the snapshot ({', '.join(missing)}): taken as the clips of the other test folds"
    with tempfile.TemporaryDirectory() as tmp:
        root = write_fixture_tree(corpus, Path(tmp) / name, [(rel, e[0]) for rel, e in entries.items()])
        ds, log = load_corpus(corpus, root, label_set="all")
    rows = {r: (u, lab, spk) for r, u, lab, spk in zip(ds["rel_path"], ds["utt_id"], ds["label"], ds["speaker"])}
    problems, absent = [], {}
    for skipped in log.skipped:
        if skipped.path in entries and any(reason in skipped.reason for reason in ON_PURPOSE):
            absent[PurePosixPath(skipped.path).stem] = skipped.reason
        else:
            problems.append(f"{skipped.path}: {skipped.reason}")
    classes: dict[str, list[str]] = {}
    order = {code: i for i, code in enumerate(label_map)}
    by_class: dict[str, dict[str, int]] = defaultdict(dict)
    speakers: list[dict[str, set]] = [defaultdict(set) for _ in folds]
    lines = []
    for rel, (code, sides) in entries.items():
        utt, label, speaker = rows.get(rel, (PurePosixPath(rel).stem, None, None))
        if label is not None:
            cls = label_map.get(code, code)
            by_class[cls][label] = min(by_class[cls].get(label, 99), order.get(code, 98))
            for k, side in sides.items():
                speakers[k][side].add(speaker)
        lines.append("\t".join([utt, rel, code, "".join(sides.get(k, "-") for k in range(len(folds)))]))
    for cls, labels in sorted(by_class.items()):
        classes[cls] = sorted(labels, key=lambda lab: (labels[lab], lab))
    dependent = any(s["t"] & (s["r"] | s.get("v", set())) for s in speakers)
    with gzip.open(DATA_DIR / f"{corpus}.tsv.gz", "wt", encoding="utf-8", newline="\n", compresslevel=9) as f:
        f.write("\n".join(lines) + "\n")
    entry = {
        "emobox_name": name, "files": files, "num_folds": len(folds), "speaker_dependent": dependent,
        "clips": len(entries), "classes": classes, "expected_absent": absent,
    }
    if note:
        entry["note"] = note
    return entry, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", help="an emo-box/EmoBox git directory (a bare mirror works)")
    parser.add_argument("--commit", default="HEAD")
    parser.add_argument("--only", nargs="*", help="hf_ser corpus names (default: all)")
    args = parser.parse_args(argv)
    commit = _git(args.repo, "rev-parse", args.commit).strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    index_path = DATA_DIR / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {"corpora": {}}
    index.update(source="github.com/emo-box/EmoBox", commit=commit)
    failed = False
    for corpus, name in CORPORA.items():
        if args.only and corpus not in args.only:
            continue
        entry, problems = build(args.repo, commit, corpus, name)
        index["corpora"][corpus] = entry
        print(f"{corpus}: {entry['clips']} clips, {entry['num_folds']} folds, speaker_dependent="
              f"{entry['speaker_dependent']}, absent on purpose {sorted(entry['expected_absent'])}")
        for p in problems:
            failed = True
            print(f"  NOT KEPT {p}")
    index["corpora"] = dict(sorted(index["corpora"].items()))
    index_path.write_text(json.dumps(index, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
