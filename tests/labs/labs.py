#!/usr/bin/env python3
"""The labs of docs/labs/, run for real (issue 19).

  labs.py check [--runs N] [--out DIR] [NAME...]   N live headless runs of each lab and variation
                                                    at its page's speed; prints min / median / max
                                                    of every number of the audit (make labs-check)
  labs.py summary DIR [NAME...]                     the same table from the audits kept in DIR
  labs.py recordings [NAME...]                      one recorded run of each into
                                                    scenarios/recordings/NAME.rec (make recordings)
  labs.py docs-numbers                              writes each page's audit blocks from
                                                    `courier replay REC --headless` (make docs-numbers)

The labs are listed in tests/labs/labs.txt. Only python3's standard library and jq are used.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COURIER = os.environ.get("COURIER", os.path.join(ROOT, "build/release/courier"))
LIST = os.path.join(ROOT, "tests/labs/labs.txt")
RECDIR = os.path.join(ROOT, "scenarios/recordings")
DOCS = os.path.join(ROOT, "docs/labs")


def labs():
    out = []
    with open(LIST, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, page, scen, speed, jqf = [x.strip() for x in line.split(" | ", 4)]
            out.append({"name": name, "page": page, "scenario": scen, "speed": speed,
                        "jq": None if jqf == "-" else jqf})
    return out


def scenario_file(lab, tmpdir):
    """The scenario the page's command runs: the built-in file, or the page's jq copy of it."""
    src = os.path.join(ROOT, lab["scenario"])
    if lab["jq"] is None:
        return src
    dst = os.path.join(tmpdir, lab["name"] + ".json")
    with open(dst, "w", encoding="utf-8") as f:
        subprocess.run(["jq", lab["jq"], src], stdout=f, check=True)
    return dst


def run(lab, tmpdir, record=None):
    cmd = [COURIER, "run", scenario_file(lab, tmpdir), "--headless"]
    if lab["speed"] != "1":
        cmd += ["--speed", lab["speed"]]
    if record:
        cmd += ["--record", record]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stdout, p.stderr


UNITS = {"ms", "bytes", "s", "B"}
NUM = re.compile(r"^-?\d+(\.\d+)?$")


def numbers(audit):
    """{name: value} for every number of an audit; names are the words before the number."""
    vals = {}
    head = ""
    for line in audit.splitlines():
        if line.startswith("== audit") or line.startswith("time:") or line.startswith("expect"):
            continue
        if not line.startswith(" "):
            head = line.split("(")[0].strip()
        m = re.match(r"^faults: (\d+) applied, (\d+) refused", line)
        if m:
            vals["faults applied"] = float(m.group(1))
            vals["faults refused"] = float(m.group(2))
            continue
        m = re.match(r"^\s+compression-rate-avg\s+([\d.]+)\s+batches (\d+) bytes sent, (\d+) before", line)
        if m:
            vals["compression-rate-avg"] = float(m.group(1))
            vals["batch bytes sent"] = float(m.group(2))
            vals["batch bytes before compression"] = float(m.group(3))
            continue
        words = re.sub(r"\(.*?\)", " ", line).replace(",", " ").split()
        label = []
        after_num = False
        for w in words:
            m = re.match(r"^(\d+):(\d+)$", w)
            if m:
                vals[" ".join(label + [m.group(1)])] = float(m.group(2))
            elif NUM.match(w):
                key = " ".join(label) or head
                if key in vals:
                    key = key + " (2)"
                vals[key] = float(w)
                label = []
                after_num = True
                continue
            elif not (after_num and w in UNITS):
                label.append(w)
            after_num = False
    return vals


def fmt(x):
    if float(x).is_integer():
        return "%d" % x
    return ("%.3f" % x if abs(x) < 1 else "%.2f" % x).rstrip("0").rstrip(".")


def table(name, audits, codes):
    per = {}
    order = []
    for a in audits:
        for k, v in numbers(a).items():
            if k not in per:
                per[k] = []
                order.append(k)
            per[k].append(v)
    lines = ["## %s: %d runs, exit codes %s" % (name, len(audits), " ".join(map(str, codes)))]
    lines.append("%-32s %10s %10s %10s" % ("number", "min", "median", "max"))
    for k in order:
        v = per[k]
        flag = "" if len(v) == len(audits) else "   (in %d runs)" % len(v)
        same = "   never varies" if min(v) == max(v) and not flag else ""
        lines.append("%-32s %10s %10s %10s%s%s" % (k, fmt(min(v)), fmt(statistics.median(v)),
                                                 fmt(max(v)), same, flag))
    return "\n".join(lines)


def pick(names):
    all_ = labs()
    if not names:
        return all_
    sel = [l for l in all_ if l["name"] in names]
    if len(sel) != len(names):
        sys.exit("labs.py: unknown lab among %s (see %s)" % (" ".join(names), LIST))
    return sel


def cmd_check(args):
    runs = 10
    out = None
    names = []
    while args:
        a = args.pop(0)
        if a == "--runs":
            runs = int(args.pop(0))
        elif a == "--out":
            out = args.pop(0)
        else:
            names.append(a)
    out = out or tempfile.mkdtemp(prefix="labs-check-")
    tmp = tempfile.mkdtemp(prefix="labs-json-")
    for lab in pick(names):
        d = os.path.join(out, lab["name"])
        os.makedirs(d, exist_ok=True)
        for i in range(runs):
            rc, so, se = run(lab, tmp)
            with open(os.path.join(d, "%02d.txt" % i), "w", encoding="utf-8") as f:
                f.write(so)
            with open(os.path.join(d, "%02d.rc" % i), "w", encoding="utf-8") as f:
                f.write("%d\n%s" % (rc, se))
            print("%s run %d: exit %d" % (lab["name"], i + 1, rc), file=sys.stderr, flush=True)
    cmd_summary([out] + names)


def cmd_summary(args):
    d = args[0]
    for lab in pick(args[1:]):
        ld = os.path.join(d, lab["name"])
        if not os.path.isdir(ld):
            continue
        audits, codes = [], []
        for fn in sorted(os.listdir(ld)):
            if fn.endswith(".txt"):
                with open(os.path.join(ld, fn), encoding="utf-8") as f:
                    audits.append(f.read())
                with open(os.path.join(ld, fn[:-4] + ".rc"), encoding="utf-8") as f:
                    codes.append(int(f.readline()))
        print(table("%s (%s, speed %s)" % (lab["name"], lab["page"], lab["speed"]), audits, codes))
        print()


def cmd_recordings(args):
    os.makedirs(RECDIR, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="labs-json-")
    for lab in pick(args):
        rec = os.path.join(RECDIR, lab["name"] + ".rec")
        if os.path.exists(rec):
            os.unlink(rec)
        rc, so, se = run(lab, tmp, record=rec)
        size = os.path.getsize(rec) if os.path.exists(rec) else 0
        print("%-28s exit %d  %8d bytes" % (lab["name"], rc, size), flush=True)
        if size == 0:
            sys.exit("labs.py: %s: no recording written: %s" % (lab["name"], se.strip()))


def replay(name):
    rec = os.path.join(RECDIR, name + ".rec")
    p = subprocess.run([COURIER, "replay", rec, "--headless"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if not p.stdout.startswith("== audit"):
        sys.exit("labs.py: courier replay %s refused (%s): run make recordings docs-numbers"
                 % (rec, p.stderr.strip()))
    return p.stdout


BEGIN = "<!-- audit: %s (make docs-numbers writes this block from scenarios/recordings/%s.rec) -->"
END = "<!-- end of audit: %s -->"


def cmd_docs_numbers(_args):
    pages = {}
    for lab in labs():
        pages.setdefault(lab["page"], []).append(lab["name"])
    for page, names in pages.items():
        path = os.path.join(DOCS, page)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for n in names:
            b, e = BEGIN % (n, n), END % n
            if b not in text:
                continue
            i = text.index(b) + len(b)
            j = text.index(e, i)
            text = text[:i] + "\n```\n" + replay(n) + "```\n" + text[j:]
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


CAPTURES = os.path.join(ROOT, "tests/labs/captures.txt")


def segments(lines):
    """A capture cut into rooms: [(head, [rows])]; head "" before the first room header."""
    segs = [("", [])]
    for l in lines:
        if l.startswith("== "):
            segs.append((l, []))
        else:
            segs[-1][1].append(l)
    return segs


def room_key(head):
    return " ".join(head.split()[:2])


def is_footer(r):
    return (" | " in r and ("acked" in r or "\u5df2\u786e\u8ba4" in r)) or \
        r.startswith((">> ", "REPLAY", "spc ", "\u56de\u653e"))


def crop(old, new):
    """The new screen cut as the old capture was: its rooms, as many rows of each, and the
    footer lines where the old capture had them."""
    olds, news = segments(old), {room_key(h): (h, r) for h, r in segments(new)}
    footer = [r for r in new if is_footer(r)]
    out = []
    for h, rows in olds:
        nh, nrows = news.get(room_key(h), (h, rows))
        body = [r for r in nrows if not is_footer(r) and r.strip()]
        if not h:  # the title bar
            out += [r for r in nrows if r.startswith(" ")][: len([r for r in rows if r.startswith(" ")])]
            continue
        out.append(nh)
        keep = [r for r in rows if r != "..." and not is_footer(r)]
        dots = [i for i, r in enumerate(rows) if r == "..."]
        if dots and dots[0] == 0:
            out.append("...")
        out += body[: len(keep)]
        if dots and dots[0] > 0:
            out.append("...")
        nf = len([r for r in rows if is_footer(r)])
        out += footer[:nf]
    return out


def cmd_captures(_args):
    with open(CAPTURES, encoding="utf-8") as f:
        specs = [[x.strip() for x in l.split(" | ")] for l in f
                 if l.strip() and not l.startswith("#")]
    for page, nth, rec, size, at, opts in specs:
        path = os.path.join(ROOT, page)
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        blocks, start = [], None
        for i, l in enumerate(lines):
            if l.startswith("```"):
                if start is None:
                    start = i
                else:
                    body = lines[start + 1:i]
                    if any(b.startswith("== ") and not b.startswith("== audit") for b in body):
                        blocks.append((start + 1, i))
                    start = None
        b, e = blocks[int(nth)]
        cmd = [os.path.join(ROOT, "tests/labs/capture.sh"), rec, size, at]
        if opts != "-":
            cmd += opts.split()
        screen = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True,
                                env=dict(os.environ, COURIER=COURIER)).stdout.split("\n")
        screen = [s for s in screen if s.strip()]
        note = ("*(The screen of `courier replay scenarios/recordings/%s.rec%s` at %s after the keys `g` `%s` Enter"
                "; regenerated by `make docs-captures`.)*" %
                (rec, "" if opts == "-" else " " + opts, size.replace("x", "\u00d7"), at))
        if e + 1 < len(lines) and lines[e + 1].startswith("*(The screen of `courier replay"):
            lines[e + 1] = note
        else:
            lines[e + 1:e + 1] = [note]
        lines[b:e] = crop(lines[b:e], screen)
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        print("%s capture %s: %s at %s" % (page, nth, rec, at), flush=True)


SKIP = {"sent", "p99", "max", "faults applied", "faults refused"}


def cmd_markdown(args):
    """The page's table: every number that varies over the runs kept in DIR (min / median /
    max), then the numbers that never vary, per lab of the page."""
    d, page = args[0], args[1]
    for lab in labs():
        if lab["page"] != page:
            continue
        ld = os.path.join(d, lab["name"])
        if not os.path.isdir(ld):
            continue
        per, order, codes = {}, [], []
        for fn in sorted(os.listdir(ld)):
            if fn.endswith(".txt"):
                with open(os.path.join(ld, fn), encoding="utf-8") as f:
                    for k, v in numbers(f.read()).items():
                        if k not in per:
                            per[k] = []
                            order.append(k)
                        per[k].append(v)
                with open(os.path.join(ld, fn[:-4] + ".rc"), encoding="utf-8") as f:
                    codes.append(int(f.readline()))
        n = len(codes)
        vary = [k for k in order if (min(per[k]) != max(per[k]) or len(per[k]) != n)
                and k not in SKIP and not k.startswith("requests per broker")]
        same = [k for k in order if k not in SKIP and not k.startswith("requests per broker")
                and min(per[k]) == max(per[k]) and len(per[k]) == n]
        ex = sorted(set(codes))
        print("`%s` (%d runs, speed %s, exit %s):\n" % (lab["name"], n, lab["speed"],
              " or ".join(str(c) for c in ex) if len(ex) > 1 else "%d every time" % ex[0]))
        print("| number | min | median | max | runs above 0 |\n|---|---|---|---|---|")
        for k in vary:
            v = per[k]
            extra = "" if len(v) == n else " (in %d runs)" % len(v)
            print("| %s%s | %s | %s | %s | %d |" % (k, extra, fmt(min(v)),
                                                    fmt(statistics.median(v)), fmt(max(v)),
                                                    sum(1 for x in v if x > 0)))
        print("\nNever varied: %s.\n" % ", ".join("%s %s" % (k, fmt(per[k][0])) for k in same))


RUNS_BEGIN = "<!-- runs: make labs-check, then tests/labs/labs.py runs DIR, writes this block -->"
RUNS_END = "<!-- end of runs -->"


def cmd_runs(args):
    """Writes each page's block of min / median / max tables from the runs kept in DIR."""
    import contextlib
    import io
    d = args[0]
    for page in sorted({l["page"] for l in labs()}):
        path = os.path.join(DOCS, page)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if RUNS_BEGIN not in text:
            continue
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            cmd_markdown([d, page])
        i = text.index(RUNS_BEGIN) + len(RUNS_BEGIN)
        j = text.index(RUNS_END, i)
        text = text[:i] + "\n" + buf.getvalue() + text[j:]
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def cmd_inrange(args):
    """Which recorded numbers lie outside the min..max of the live runs kept in DIR."""
    d = args[0]
    for lab in pick(args[1:]):
        ld = os.path.join(d, lab["name"])
        if not os.path.isdir(ld):
            continue
        per = {}
        for fn in os.listdir(ld):
            if fn.endswith(".txt"):
                with open(os.path.join(ld, fn), encoding="utf-8") as f:
                    for k, v in numbers(f.read()).items():
                        per.setdefault(k, []).append(v)
        rec = numbers(replay(lab["name"]))
        out = ["%s %s (%s..%s)" % (k, fmt(v), fmt(min(per[k])), fmt(max(per[k])))
               for k, v in rec.items() if k in per and k not in SKIP and
               not k.startswith("requests per broker") and "latency" not in k and
               not min(per[k]) <= v <= max(per[k])]
        print("%-28s %s" % (lab["name"], "; ".join(out) or "in range"))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmds = {"check": cmd_check, "summary": cmd_summary, "recordings": cmd_recordings,
            "docs-numbers": cmd_docs_numbers, "captures": cmd_captures,
            "markdown": cmd_markdown, "runs": cmd_runs, "inrange": cmd_inrange}
    if sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
