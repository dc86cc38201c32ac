#!/usr/bin/env python3
"""The labs of docs/labs/, run for real (issue 19).

  labs.py check [--runs N] [-j J] [--out DIR] [--write] [NAME...]
                         N live headless runs of each lab and variation at its page's speed, J at
                         once; prints min / median / max of every number of the audit; --write
                         also writes the pages' "From run to run" tables (make labs-check), then
                         checks that each recording lies inside its page's ranges
  labs.py summary DIR [NAME...]       the same table from the audits kept in DIR
  labs.py runs DIR                    writes the pages' "From run to run" tables from DIR
  labs.py ranges [NAME...]            each recording's numbers against its page's table: exit 1
                                      when one lies outside (or a number that never varied differs)
  labs.py recordings [NAME...]        one recorded run of each into scenarios/recordings/NAME.rec
                                      (make recordings)
  labs.py docs-numbers [--check]      writes (--check: compares) each page's audit blocks and
                                      prose figures <!-- lab:NAME EXPR -->...<!-- /lab --> from
                                      the recordings (make docs-numbers; tests/test_sim_labs.c)
  labs.py captures [PAGE...]          the screen captures of tests/labs/captures.txt (those of
                                      PAGE: docs/view.md), from the recordings in tmux
                                      (make docs-captures)
  labs.py events NAME [FILTER...]     the recorded events that match (to write a figure's EXPR)

The labs are listed in tests/labs/labs.txt. Only python3's standard library and jq are used.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import shutil
import tempfile
import time

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


def run(lab, tmpdir, record=None, scen=None):
    cmd = [COURIER, "run", scen or scenario_file(lab, tmpdir), "--headless"]
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


def run_one(lab, scen, d, i, record):
    rec = os.path.join(d, "%02d.rec" % i) if record else None
    rc, so, se = run(lab, None, record=rec, scen=scen)
    if rc == 2:  # a bad scenario or usage: not a run
        sys.exit("labs.py: %s run %d: exit 2: %s" % (lab["name"], i + 1, se.strip()))
    with open(os.path.join(d, "%02d.txt" % i), "w", encoding="utf-8") as f:
        f.write(so)
    with open(os.path.join(d, "%02d.rc" % i), "w", encoding="utf-8") as f:
        f.write("%d\n%s" % (rc, se))
    print("%s run %d: exit %d" % (lab["name"], i + 1, rc), file=sys.stderr, flush=True)


def typical(ld):
    """The run of DIR closest to the medians (of the most frequent exit code): the sum over
    every number of |value - median| / (max - min)."""
    runs = []
    for fn in sorted(os.listdir(ld)):
        if fn.endswith(".txt"):
            with open(os.path.join(ld, fn), encoding="utf-8") as f:
                vals = numbers(f.read())
            with open(os.path.join(ld, fn[:-4] + ".rc"), encoding="utf-8") as f:
                rc = int(f.readline())
            runs.append((fn[:-4], rc, vals))
    codes = [r[1] for r in runs]
    mode = max(set(codes), key=codes.count)
    keys = {k for r in runs for k in r[2]}
    best = None
    for name, rc, vals in runs:
        if rc != mode:
            continue
        score = 0.0
        for k in keys:
            col = [r[2][k] for r in runs if k in r[2]]
            if k not in vals or max(col) == min(col):
                continue
            score += abs(vals[k] - statistics.median(col)) / (max(col) - min(col))
        if best is None or score < best[0]:
            best = (score, name)
    return best[1] if best else None


def cmd_check(args):
    """N live runs of each lab (J at once). --write: the pages' tables from them, and each
    lab's most typical run (recorded) becomes its shipped recording; then the ranges check."""
    import concurrent.futures
    runs, jobs, out, write, names = 10, 1, None, False, []
    while args:
        a = args.pop(0)
        if a == "--runs":
            runs = int(args.pop(0))
        elif a == "-j":
            jobs = int(args.pop(0))
        elif a == "--out":
            out = args.pop(0)
        elif a == "--write":
            write = True
        else:
            names.append(a)
    out = out or tempfile.mkdtemp(prefix="labs-check-")
    tmp = tempfile.mkdtemp(prefix="labs-json-")
    sel = [l for l in pick(names) if l["page"] != "-"] if not names else pick(names)
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        futs = []
        for lab in sel:
            d = os.path.join(out, lab["name"])
            os.makedirs(d, exist_ok=True)
            scen = scenario_file(lab, tmp)  # once: the runs of a lab share it
            for i in range(runs):
                futs.append(ex.submit(run_one, lab, scen, d, i, write))
        for f in futs:
            f.result()
    print("labs.py check: %d runs in %.0f s (-j %d), kept in %s" % (len(futs), time.time() - t0,
          jobs, out), file=sys.stderr, flush=True)
    cmd_summary([out] + names)
    if write:
        for lab in sel:
            ld = os.path.join(out, lab["name"])
            best = typical(ld)
            if best and os.path.exists(os.path.join(ld, best + ".rec")):
                shutil.copyfile(os.path.join(ld, best + ".rec"),
                                os.path.join(RECDIR, lab["name"] + ".rec"))
                print("%-28s recording: run %d of %d (the closest to the medians)" %
                      (lab["name"], int(best) + 1, runs), flush=True)
            for fn in os.listdir(ld):
                if fn.endswith(".rec"):
                    os.unlink(os.path.join(ld, fn))
        cmd_runs([out])
        if not names:  # the recordings of the docs' captures only (page "-"): one run each
            cmd_recordings([l["name"] for l in labs() if l["page"] == "-"])
        print("the pages' tables and the recordings are written: now make docs-numbers "
              "docs-captures", flush=True)
    sys.exit(cmd_ranges(names))


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
        raise Refused("courier replay %s refused (%s): run make recordings LABS=%s (or make "
                      "labs-check LABS_WRITE=1), then make docs-numbers"
                      % (os.path.relpath(rec, ROOT), p.stderr.strip(), name))
    return p.stdout


class Refused(RuntimeError):
    """A recording the build cannot replay (missing, or made by a build with another view
    model)."""


BEGIN = "<!-- audit: %s (make docs-numbers writes this block from scenarios/recordings/%s.rec) -->"
END = "<!-- end of audit: %s -->"


def fill_figures(path, text, problems):
    """TEXT with every figure <!-- lab:NAME EXPR | FMT -->VALUE<!-- /lab --> set from NAME's
    recording; a figure that changed is added to problems as "path:line: ..."."""
    known = {l["name"] for l in labs()}

    def one(m):
        name, expr, spec, old = m.group(1), m.group(2), m.group(3), m.group(4)
        line = text.count("\n", 0, m.start()) + 1
        if name not in known:
            problems.append("%s:%d: %s is not a lab of %s" % (path, line, name, LIST))
            return m.group(0)
        try:
            new = show(figure(name, expr), spec)
        except Exception as e:  # a bad EXPR: say where
            problems.append("%s:%d: %s: %s: %s" % (path, line, name, expr, e))
            return m.group(0)
        if new != old:
            problems.append("%s:%d: %s %s: the page says %r, the recording %r" %
                            (os.path.relpath(path, ROOT), line, name, expr, old, new))
        return m.group(0)[:m.start(4) - m.start()] + new + "<!-- /lab -->"
    return FIG.sub(one, text)


def cmd_docs_numbers(args):
    """Writes (--check: only compares, exit 1 on a difference) the audit blocks of the lab
    pages and every figure of the docs from the recordings."""
    check = "--check" in args
    problems = []
    names = {}
    for lab in labs():
        names.setdefault(lab["page"], []).append(lab["name"])
    for path in doc_pages():
        with open(path, encoding="utf-8") as f:
            text = orig = f.read()
        if os.path.dirname(path) == DOCS:
            for n in names.get(os.path.basename(path), []):
                b, e = BEGIN % (n, n), END % n
                if b not in text:
                    continue
                i = text.index(b) + len(b)
                j = text.index(e, i)
                try:
                    block = "\n```\n" + replay(n) + "```\n"
                except Refused as e:
                    problems.append(str(e))
                    continue
                if text[i:j] != block:
                    problems.append("%s: the audit block of %s" % (os.path.relpath(path, ROOT), n))
                text = text[:i] + block + text[j:]
        text = fill_figures(path, text, problems)
        if text != orig and not check:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    for p in problems:
        print(("" if check else "updated: ") + p)
    refused = [p for p in problems if "refused" in p or "run make recordings" in p]
    if refused and not check:
        sys.exit("labs.py docs-numbers: %d block(s) or figure(s) left as they were: their "
                 "recordings are refused (above)" % len(refused))
    if check and problems:
        sys.exit("labs.py docs-numbers --check: %d figure(s) differ from the recordings: run "
                 "make docs-numbers" % len(problems))


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


NOTE = "*(The screen of `courier replay scenarios/recordings/"


def capture_specs():
    """tests/labs/captures.txt: page | nth | recording | COLSxROWS | at | replay options |
    keys | rooms or full."""
    with open(CAPTURES, encoding="utf-8") as f:
        return [[x.strip() for x in l.split(" | ")] for l in f
                if l.strip() and not l.startswith("#")]


def capture_blocks(lines):
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
    return blocks


def cmd_captures(args):
    for spec in capture_specs():
        if args and spec[0] not in args:
            continue
        page, nth, rec, size, at, opts, keys, cut = spec
        if at.startswith("@"):  # an event picked by a figure's EXPR: @nth(2, "seq", kind=...)
            at = str(figure(rec, at[1:]))
        path = os.path.join(ROOT, page)
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        blocks = capture_blocks(lines)
        if int(nth) >= len(blocks):
            sys.exit("labs.py: %s has %d captures, not a capture %s" % (page, len(blocks), nth))
        b, e = blocks[int(nth)]
        cmd = [os.path.join(ROOT, "tests/labs/capture.sh"), rec, size, at]
        if opts != "-":
            cmd += opts.split()
        if keys != "-":
            cmd += ["--"] + keys.split()
        screen = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True,
                                env=dict(os.environ, COURIER=COURIER)).stdout.split("\n")
        screen = [s for s in screen if s.strip()]
        ev = "?"
        for l in screen:
            m = re.search(r"(?:REPLAY event|\u56de\u653e.*?) (\d+)/\d+", l)
            if m:
                ev = m.group(1)
        note = ("%s%s.rec%s` at %s, keys `g` `%s` Enter%s: event %s; regenerated by "
                "`make docs-captures`.)*" %
                (NOTE, rec, "" if opts == "-" else " " + opts, size.replace("x", "\u00d7"), at,
                 "" if keys == "-" else " " + " ".join("`%s`" % k for k in keys.split()), ev))
        if e + 1 < len(lines) and lines[e + 1].startswith(NOTE):
            lines[e + 1] = note
        else:
            lines[e + 1:e + 1] = [note]
        lines[b:e] = screen if cut == "full" else crop(lines[b:e], screen)
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        print("%s capture %s: %s at %s, event %s" % (page, nth, rec, at, ev), flush=True)


RUNS = 10  # the runs of the pages' tables (make labs-check)
SKIP = {"sent", "p99", "max", "faults applied", "faults refused"}


def cmd_markdown(args):
    """The page's table: every number that varies over the runs kept in DIR (min / median /
    max), then the numbers that never vary, per lab of the page."""
    d, page = args[0], args[1]
    for lab in labs():
        if lab["page"] != page or (len(args) > 2 and lab["name"] != args[2]):
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
    """Writes each page's block of min / median / max tables from the runs kept in DIR (a lab
    without runs in DIR keeps the table the page has)."""
    import contextlib
    import io
    d = args[0]
    for page in sorted({l["page"] for l in labs() if l["page"] != "-"}):
        path = os.path.join(DOCS, page)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if RUNS_BEGIN not in text:
            continue
        i = text.index(RUNS_BEGIN) + len(RUNS_BEGIN)
        j = text.index(RUNS_END, i)
        old = text[i:j]
        chunks = []
        for lab in labs():
            if lab["page"] != page:
                continue
            if os.path.isdir(os.path.join(d, lab["name"])):
                buf = io.StringIO()
                with contextlib.redirect_stdout(buf):
                    cmd_markdown([d, page, lab["name"]])
                chunks.append(buf.getvalue())
            else:
                k = old.find("\n`%s` (" % lab["name"])
                if k >= 0:
                    e = old.find("\n`", k + 1)
                    chunks.append(old[k + 1:e + 1 if e >= 0 else len(old)])
        text = text[:i] + "\n" + "".join(chunks) + text[j:]
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def page_table(text, name):
    """The page's "From run to run" numbers of lab NAME: ({number: (min, max)}, {number: value})."""
    rng, same = {}, {}
    i = text.find("`%s` (" % name, text.find(RUNS_BEGIN))
    if i < 0 or RUNS_BEGIN not in text:
        return None
    j = text.find("\n`", i + 1)
    block = text[i:j if j > 0 else text.index(RUNS_END)]
    for line in block.splitlines():
        m = re.match(r"^\| (.+?)(?: \(in \d+ runs\))? \| ([-\d.]+) \| ([-\d.]+) \| ([-\d.]+) \| (\d+) \|", line)
        if m:
            rng[m.group(1)] = (float(m.group(2)), float(m.group(4)), float(m.group(3)),
                               int(m.group(5)))
        if line.startswith("Never varied: "):
            for item in line[len("Never varied: "):].rstrip(".").split(", "):
                k, _, v = item.rpartition(" ")
                if NUM.match(v):
                    same[k] = float(v)
    return rng, same


def cmd_ranges(args):
    """Each recording's audit against its page's table: every number inside min..max, every
    number that never varied equal. Returns the exit code (1 when one lies outside)."""
    bad = 0
    for lab in pick(args):
        if lab["page"] == "-":
            continue
        with open(os.path.join(DOCS, lab["page"]), encoding="utf-8") as f:
            t = page_table(f.read(), lab["name"])
        if t is None:
            print("%-28s no table on %s" % (lab["name"], lab["page"]))
            bad += 1
            continue
        rng, same = t
        try:
            rec = numbers(replay(lab["name"]))
        except Refused as e:
            print("%-28s %s" % (lab["name"], e))
            bad += 1
            continue
        out = ["%s %s (%s..%s)" % (k, fmt(v), fmt(rng[k][0]), fmt(rng[k][1]))
               for k, v in rec.items() if k in rng and not rng[k][0] <= v <= rng[k][1]]
        out += ["%s %s (never varied: %s)" % (k, fmt(v), fmt(same[k]))
                for k, v in rec.items() if k in same and v != same[k]]
        bad += len(out) > 0
        print("%-28s %s" % (lab["name"], "; ".join(out) or "inside the page's ranges"))
    if bad:
        print("labs.py ranges: %d recording(s) outside their page's ranges: rerun make labs-check "
              "LABS_WRITE=1 (or make recordings LABS=NAME) then make docs-numbers" % bad)
    return 1 if bad else 0


# ---- the recorded events (the format is docs/trace.md's "Recordings") -----------------------

EV_FMT = "<QqBiiqqiiqqihqB"
EV_FIELDS = ("seq", "t_us", "src", "partition", "node", "record", "batch", "corr", "count",
             "bytes", "offset", "err", "api", "offset_end", "stepped")
SRC = {0: "producer", 1: "broker", 2: "sim"}
API = {0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 18: "ApiVersions",
       22: "InitProducerId"}


def err_names():
    names = {0: "NONE"}
    with open(os.path.join(ROOT, "protocol/kw.h"), encoding="utf-8") as f:
        for m in re.finditer(r"KW_ERR_{1,2}([A-Z_0-9]+) = (-?\d+)", f.read()):
            names[int(m.group(2))] = m.group(1)
    return names


_EVENTS = {}
_SNAPS = {}


def events(name):
    """Every recorded event of NAME's recording, as dicts (t: run time in seconds)."""
    if name in _EVENTS:
        return _EVENTS[name]
    import struct
    import zlib
    try:
        with open(os.path.join(RECDIR, name + ".rec"), "rb") as f:
            data = f.read()
    except OSError as e:
        raise Refused("%s: run make recordings LABS=%s" % (e, name))
    if data[:8] != b"CRRECORD":
        sys.exit("labs.py: %s.rec is not a recording" % name)
    errs, out, p, start = err_names(), [], 8, 0
    size = struct.calcsize(EV_FMT)
    while p < len(data):
        tag, ln, _crc = struct.unpack_from("<4sII", data, p)
        pay, p = data[p + 12:p + 12 + ln], p + 12 + ln
        if tag == b"RUNI":
            start = json.loads(pay)["start_us"]
        elif tag == b"CHNK":
            raw, q = zlib.decompress(pay[44:]), 0
            while q < len(raw):
                ty, ln2 = raw[q], struct.unpack_from("<I", raw, q + 1)[0]
                q += 5
                if ty == ord("E"):
                    e = dict(zip(EV_FIELDS, struct.unpack_from(EV_FMT, raw, q)))
                    r = q + size
                    for k in ("kind", "topic", "detail"):
                        e[k] = raw[r + 1:r + 1 + raw[r]].decode("utf-8", "replace")
                        r += 1 + raw[r]
                    e["src"] = SRC.get(e["src"], e["src"])
                    e["api"] = API.get(e["api"], e["api"])
                    e["err"] = errs.get(e["err"], e["err"])
                    out.append(e)
                elif ty == ord("S"):
                    _SNAPS.setdefault(name, []).append(struct.unpack_from("<Q", raw, q)[0])
                q += ln2
        elif tag == b"ENDR":
            break
    for e in out:
        e["t"] = (e["t_us"] - start) / 1e6
    _EVENTS[name] = out
    return out


def match(evs, f):
    """The events matching the filters f: field=value (err and api by name), detail_has=TEXT,
    after=KIND (after the first event of that kind), after_t / before_t (run time, s)."""
    f = dict(f)
    after = f.pop("after", None)
    has = f.pop("detail_has", None)
    t0, t1 = f.pop("after_t", None), f.pop("before_t", None)
    out, on = [], after is None
    for e in evs:
        if not on:
            on = e["kind"] == after
            continue
        if has is not None and has not in e["detail"]:
            continue
        if t0 is not None and e["t"] < t0 or t1 is not None and e["t"] >= t1:
            continue
        if all(e.get(k) == v for k, v in f.items()):
            out.append(e)
    return out


class Audit(dict):
    def __getattr__(self, k):
        v = self[k]
        return Audit(v) if isinstance(v, dict) else v


def replay_json(name):
    rec = os.path.join(RECDIR, name + ".rec")
    p = subprocess.run([COURIER, "replay", rec, "--headless", "--report", "json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        return Audit(json.loads(p.stdout))
    except ValueError:
        raise Refused("courier replay %s refused (%s): run make recordings LABS=%s, then make "
                      "docs-numbers" % (os.path.relpath(rec, ROOT), p.stderr.strip(), name))


def figure(name, expr):
    """The value of a figure's EXPR on lab NAME's recording: a Python expression over `a` (the
    audit, `courier replay REC --headless --report json`: a.requests, a.failed_by.TIMED_OUT)
    and the recorded events: count(**filters), total(field, **filters), by(field, **filters)
    (per partition 0..n-1: the count, or the sum of field), first(field, **filters),
    nth(i, field, **filters), t(**filters) (run time in s of the first match), cut(partition,
    what) (a truncation: lo, hi, n, node, acked), snapshot(seq) (the first event from seq on
    whose replayed rooms are sampled after seq), and the page's ten-run table: rmin(number),
    rmax(number), rmedian(number), rabove(number) (in how many runs it was above 0).
    Filters: any event field (kind="isr.changed", partition=0, err="TIMED_OUT", src="broker"),
    detail_has="text", after="KIND" (after the first event of that kind), after_t / before_t."""
    def evs(**f):
        return match(events(name), f)

    def by(field=None, key="partition", **f):
        sel = evs(**f)
        ks = sorted({e[key] for e in sel})
        return [sum((e[field] if field else 1) for e in sel if e[key] == k) for k in ks]

    def first(field, **f):
        sel = evs(**f)
        return sel[0][field] if sel else None

    def nth(i, field, **f):
        sel = evs(**f)
        return sel[i - 1][field] if len(sel) >= i else None

    def snapshot(seq):
        """The first event at or after seq where the replay's rooms show a sample taken at or
        after it (the map and the sorting room stand still between two samples)."""
        events(name)
        return min((x for x in _SNAPS.get(name, []) if x >= seq), default=None)

    def cut(partition, what, nth=1):
        """The nth truncation of a partition: what "lo", "hi" (the offsets removed, both ends),
        "node" (the broker cut), "n" (how many) or "acked" (how many of them had been
        acknowledged: the batch.completed of that partition before it, overlapping)."""
        tr = evs(kind="log.truncated", partition=partition)[nth - 1]
        lo, hi = [int(x) for x in re.search(r"(\d+)\.\.(\d+)", tr["detail"]).groups()]
        acked = 0
        for e in evs(kind="batch.completed", partition=partition):
            if e["seq"] < tr["seq"] and e["offset"] >= 0:
                acked += max(0, min(hi, e["offset"] + e["count"] - 1) - max(lo, e["offset"]) + 1)
        return {"lo": lo, "hi": hi, "node": tr["node"], "n": hi - lo + 1, "acked": acked}[what]

    def runs(number, which):
        """The page's "From run to run" table (written by make labs-check LABS_WRITE=1): the
        min, median or max of NUMBER (the table's name of it) over the runs; a number that
        never varied has all three equal."""
        lab = [l for l in labs() if l["name"] == name][0]
        with open(os.path.join(DOCS, lab["page"]), encoding="utf-8") as f:
            t = page_table(f.read(), name)
        if t is None:
            raise ValueError("no table of %s on %s" % (name, lab["page"]))
        rng, same = t
        if number in same:
            v = same[number] if which != "above" else (RUNS if same[number] > 0 else 0)
        else:
            v = rng[number][{"min": 0, "max": 1, "median": 2, "above": 3}[which]]
        return int(v) if float(v).is_integer() else v

    ns = {"count": lambda **f: len(evs(**f)), "snapshot": snapshot, "cut": cut,
          "rmin": lambda k: runs(k, "min"), "rmax": lambda k: runs(k, "max"),
          "rmedian": lambda k: runs(k, "median"), "rabove": lambda k: runs(k, "above"),
          "total": lambda field, **f: sum(e[field] for e in evs(**f)),
          "by": by, "first": first, "nth": nth,
          "t": lambda **f: first("t", **f), "len": len, "round": round, "min": min,
          "max": max, "abs": abs, "sum": sum}
    if re.search(r"\ba\b", expr):
        ns["a"] = replay_json_cached(name)
    return eval(expr, {"__builtins__": {}}, ns)  # the expressions are the docs' own


_JSON = {}


def replay_json_cached(name):
    if name not in _JSON:
        _JSON[name] = replay_json(name)
    return _JSON[name]


def show(v, spec):
    """A figure as the page prints it: FMT a Python format spec (",": 2,990; ".1f": 18.0;
    "%": a fraction as a percent); a list joined with ", "."""
    if isinstance(v, (list, tuple)):
        return ", ".join(show(x, spec) for x in v)
    if spec:
        return format(v, spec)
    if isinstance(v, float) and v.is_integer():
        return "%d" % v
    return str(v)


FIG = re.compile(r"(?<!`)<!-- lab:(\S+) (.+?)(?: \| (\S+))? -->(.*?)<!-- /lab -->", re.S)


def doc_pages():
    out = [os.path.join(ROOT, "README.md")]
    for d in ("docs", "docs/labs"):
        full = os.path.join(ROOT, d)
        out += [os.path.join(full, f) for f in sorted(os.listdir(full)) if f.endswith(".md")]
    return out


def cmd_events(args):
    f = {}
    for a in args[1:]:
        k, _, v = a.partition("=")
        f[k] = int(v) if re.match(r"^-?\d+$", v) else float(v) if k.endswith("_t") else v
    for e in match(events(args[0]), f):
        print("#%d t=%.6f %s %s %s p%d node %d count %d err %s: %s" % (
            e["seq"], e["t"], e["src"], e["kind"], e["topic"], e["partition"], e["node"],
            e["count"], e["err"], e["detail"]))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmds = {"check": cmd_check, "summary": cmd_summary, "recordings": cmd_recordings,
            "docs-numbers": cmd_docs_numbers, "captures": cmd_captures,
            "markdown": cmd_markdown, "runs": cmd_runs, "ranges": lambda a: sys.exit(cmd_ranges(a)),
            "events": cmd_events}
    if sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
