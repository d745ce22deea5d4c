#!/usr/bin/env python3
"""One table from the raw rows of several tools/hitl_grid.sh passes (docs/hitl-grid-*.tsv).

    python3 tools/grid_table.py docs/hitl-grid-fifth-pass.tsv docs/hitl-grid-sixth-pass.tsv runs/grid15/results.tsv

Passes on the same processor kind share their base models (training is deterministic for a given
binary, seed, thread count and processor kind), so a (kind, seed, recipe, edits) cell measured twice
must agree: a disagreement beyond the 4-decimal rounding of the older files is reported and the
script exits 1. Recipe names of older passes are mapped to today's: "unfrozen" and
"default (counterexamples 2, branches all)" are the default (`finetune` as it is), "paper" is
`--counterexamples 0`. Prints a markdown table: per kind and edit count, mean ± sample sd over the
seeds of test accuracy, decoy mass and mass in mask for the paper's recipe, the default and the
shortcut-free control (over the same seeds), then the per-seed test accuracies.
"""
import csv, math, statistics, sys

ALIASES = {"unfrozen": "default", "default (counterexamples 2, branches all)": "default"}
COLUMNS = {"test_decoy_mass": "decoy_mass", "test_mass_in_mask": "mass_in_mask"}


def rows(paths):
    cells, clashes = {}, []
    for path in paths:
        for r in csv.DictReader(open(path), delimiter="\t"):
            r = {COLUMNS.get(k, k): v for k, v in r.items()}
            recipe = ALIASES.get(r["recipe"], r["recipe"])
            edits = 0 if r["edits"] in ("-", "") else int(r["edits"])
            key = (r["kind"], int(r["seed"]), recipe, edits)
            values = tuple(float(r[k]) for k in ("dev_acc", "test_acc", "decoy_mass", "mass_in_mask"))
            if key in cells and any(abs(a - b) > 6e-5 for a, b in zip(cells[key], values)):
                clashes.append(f"{key}: {cells[key]} in an earlier file, {values} in {path}")
            cells[key] = values
    return cells, clashes


def ms(xs, scale=1.0, digits=1):
    xs = [scale * x for x in xs if not math.isnan(x)]
    if not xs:
        return "–"
    if len(xs) == 1:
        return f"{xs[0]:.{digits}f}"
    return f"{statistics.mean(xs):.{digits}f} ± {statistics.stdev(xs):.{digits}f}"


def main(paths):
    cells, clashes = rows(paths)
    for c in clashes:
        print("disagreement:", c, file=sys.stderr)
    kinds = sorted({k[0] for k in cells}, key=lambda k: ["patch", "background", "stamp"].index(k) if k in ("patch", "background", "stamp") else 9)
    edit_counts = sorted({k[3] for k in cells if k[3] > 0})
    print("| kind | edits | seeds | before | control | paper | **default** | default − control | default − paper | decoy mass paper / default | mass in mask paper / default |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    per_seed = []
    for kind in kinds:
        for n in edit_counts:
            seeds = sorted(s for (k, s, r, e) in cells if k == kind and e == n and r == "default" and (k, s, "paper", n) in cells)
            if not seeds:
                continue
            get = lambda recipe, i, edits=n: [cells[(kind, s, recipe, edits)][i] for s in seeds if (kind, s, recipe, edits) in cells]
            control, paper, default = get("control", 1, 0), get("paper", 1), get("default", 1)
            before = get("before", 1, 0)
            gap_c = [d - c for d, c in zip(default, control)] if len(control) == len(seeds) else []
            gap_p = [d - p for d, p in zip(default, paper)]
            print(f"| {kind} | {n} | {','.join(map(str, seeds))} | {ms(before, 100)} | {ms(control, 100)} | {ms(paper, 100)} | "
                  f"**{ms(default, 100)}** | {ms(gap_c, 100)} | {ms(gap_p, 100)} | "
                  f"{ms(get('paper', 2), 1, 3)} / {ms(get('default', 2), 1, 3)} | {ms(get('paper', 3), 1, 3)} / {ms(get('default', 3), 1, 3)} |")
            per_seed.append(f"{kind} {n}: " + ", ".join(
                f"seed {s} {100 * cells[(kind, s, 'paper', n)][1]:.1f} → {100 * cells[(kind, s, 'default', n)][1]:.1f}"
                + (f" (control {100 * cells[(kind, s, 'control', 0)][1]:.1f})" if (kind, s, "control", 0) in cells else "")
                for s in seeds))
    print()
    print("Per seed, test accuracy paper → default:")
    for line in per_seed:
        print("- " + line)
    return 1 if clashes else 0


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        sys.exit(0 if len(sys.argv) > 1 else 2)
    sys.exit(main(sys.argv[1:]))
