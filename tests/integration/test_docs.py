"""The operator documentation against the code and the built binary.

The man pages, the examples and the code must not drift apart:

* man/qbitrr-sweep.1 documents exactly the options and commands of
  ``qbitrr-sweep --help`` (short and long forms paired as in --help), the
  exit statuses of src/sweep.h, the rules of src/policy.c in their order,
  and the action and result vocabularies of src/policy.c / src/sweep_act.c.
* man/qbitrr.ini.5 documents exactly the keys of src/config_keys.c's key table
  (as ".It Cm Key" items, one ".Ss" per section), every key of
  qbitrr.ini.sample, and the ignored qBitrr keys of config_keys.c; every
  documented key is accepted by ``check-config`` with a value of its
  documented type, and every documented default is the one check-config
  prints.
* Both pages are clean under ``mandoc -Tlint -W warning``.
* Every examples/*.ini, and every example in qbitrr.ini(5), passes
  ``check-config`` without a warning.
* examples/qbitrr-sweep.service and .timer pass ``systemd-analyze verify``
  (when available) and carry the hardening the docs promise.
* examples/sweep-report.sh mails a summary only when a sweep did something,
  failed, or found an instance unreachable.
"""

import os
import re
import shutil
import stat
import subprocess
import unittest

from harness import (BINARY, REPO, SANITIZER_MARKERS, IntegrationTestCase,
                     TempDir, _clean_env, free_port, run_tool, write_config)

MAN1 = os.path.join(REPO, "man", "qbitrr-sweep.1")
MAN5 = os.path.join(REPO, "man", "qbitrr.ini.5")
SAMPLE = os.path.join(REPO, "qbitrr.ini.sample")
EXAMPLES = os.path.join(REPO, "examples")
SRC = os.path.join(REPO, "src")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


# ---------------------------------------------------------------------------
# mdoc helpers
# ---------------------------------------------------------------------------

def unescape(s):
    """The roff escapes the pages use, as plain text."""
    for a, b in (("\\(dq", '"'), ("\\-", "-"), ("\\e", "\\"), ("\\&", ""),
                 ("\\(em", "-")):
        s = s.replace(a, b)
    return s


def sections(text):
    """{".Sh name": [lines]} of an mdoc page."""
    out, cur = {}, None
    for ln in text.splitlines():
        if ln.startswith(".Sh "):
            cur = ln[4:].strip()
            out[cur] = []
        elif cur is not None:
            out[cur].append(ln)
    return out


def subsections(lines):
    """[(".Ss name", [lines])] in order."""
    out = []
    for ln in lines:
        if ln.startswith(".Ss "):
            out.append((unescape(ln[4:].strip()), []))
        elif out:
            out[-1][1].append(ln)
    return out


MACRO = re.compile(r"^[A-Z][a-z][a-z]?$")


def fl_flags(line):
    """Options named by the Fl macros of one mdoc line: "-c", "--config".

    ".Op Fl nqv" names -n, -q and -v; ".Fl h | V" names -h and -V."""
    toks = line.lstrip(".").split()
    out, in_fl = [], False
    for t in toks:
        if t == "Fl":
            in_fl = True
            continue
        if MACRO.match(t):
            in_fl = False
            continue
        if not in_fl or t in ("|", ",", ".", ";", ":", "(", ")", "[", "]"):
            continue
        if t.startswith("-"):
            out.append("-" + t)
        else:
            out.extend("-" + c for c in t)
    return out


# ---------------------------------------------------------------------------
# what --help says
# ---------------------------------------------------------------------------

def help_text():
    r = run_tool(["--help"])
    assert r.rc == 0, r
    return r.stdout


def help_options():
    """[(short or None, long)] from the Options: block of --help."""
    out, inside = [], False
    for ln in help_text().splitlines():
        if ln.startswith("Options:"):
            inside = True
            continue
        if inside and not ln.strip():
            break
        if not inside:
            continue
        m = re.match(r"^\s+(?:(-[A-Za-z0-9]),\s+)?(--[a-z][a-z-]*)\b", ln)
        if m:
            out.append((m.group(1), m.group(2)))
        else:
            m = re.match(r"^\s+(-[A-Za-z0-9])\b", ln)
            if m:
                out.append((m.group(1), None))
    return out


def help_commands():
    out, inside = [], False
    for ln in help_text().splitlines():
        if ln.startswith("Commands:"):
            inside = True
            continue
        if inside and not ln.strip():
            break
        m = re.match(r"^  ([a-z][a-z-]*)\b", ln) if inside else None
        if m:
            out.append(m.group(1))
    return out


# ---------------------------------------------------------------------------
# what the code says
# ---------------------------------------------------------------------------

SK_KIND = {"SK_SETTINGS": "settings", "SK_QBIT": "qbit", "SK_ARR": "arr",
           "SK_TORRENT": "torrent", "SK_SEEDING": "seeding",
           "SK_TRACKER": "tracker"}


def code_keys():
    """{kind: {key}} from the keydefs[] table of src/config_keys.c."""
    src = read(os.path.join(SRC, "config_keys.c"))
    table = src[src.index("keydefs[K__COUNT]"):]
    table = table[:table.index("};")]
    out = {k: set() for k in SK_KIND.values()}
    for sk, name in re.findall(r'\[K_\w+\]\s*=\s*\{\s*(SK_\w+),\s*"(\w+)"', table):
        out[SK_KIND[sk]].add(name)
    return out


def code_unused_keys():
    """{kind: {key pattern}} from the unused[] table of src/config_keys.c."""
    src = read(os.path.join(SRC, "config_keys.c"))
    table = src[src.index("} unused[] = {"):]
    table = table[:table.index("};")]
    out = {k: set() for k in SK_KIND.values()}
    for sk, name in re.findall(r'\{\s*(SK_\w+),\s*"([\w*]+)",\s*NULL\s*\}', table):
        out[SK_KIND[sk]].add(name)
    return out


def code_action_names():
    src = read(os.path.join(SRC, "policy.c"))
    table = src[src.index("action_names[ACT__COUNT]"):]
    table = table[:table.index("};")]
    return re.findall(r'\]\s*=\s*"(\w+)"', table)


def code_rule_names():
    src = read(os.path.join(SRC, "policy.c"))
    block = src[src.index("bool (*ends_chain)(struct chain *);"):]
    block = block[:block.index("};", block.index("rules[]"))]
    return re.findall(r'\{ "([\w-]+)", rule_\w+ \}', block)


def code_results():
    src = read(os.path.join(SRC, "sweep_act.c"))
    out = set()
    # The outcome results' one table ("pending" never reaches an audit row).
    table = src[src.index("outcome_result_name(enum outcome_result result)"):]
    table = table[:table.index("};")]
    out.update(r for r in re.findall(r'\[RESULT_\w+\] = "(\w+)"', table)
               if r != "pending")
    # Intents: written before sending, settled by the next run when killed.
    out.update(re.findall(r'\.result = "(\w+)"', src))
    out.update(re.findall(r"SET result = '(\w+)'",
                          read(os.path.join(SRC, "state.c"))))
    return out


def code_exit_codes():
    src = read(os.path.join(SRC, "sweep.h"))
    return {0} | {int(n) for n in re.findall(r"#define EXIT_\w+\s+(\d+)", src)}


# ---------------------------------------------------------------------------
# qbitrr.ini(5)
# ---------------------------------------------------------------------------

def ss_kind(title):
    if "Trackers" in title:
        return "tracker"
    if "SeedingMode" in title:
        return "seeding"
    if ".Torrent" in title:
        return "torrent"
    if "[Radarr" in title:
        return "arr"
    if "[qBit" in title:
        return "qbit"
    if "[Settings]" in title:
        return "settings"
    return None


def page_keys():
    """{kind: [(key, type words, body lines)]} from the .It Cm items."""
    secs = sections(read(MAN5))
    out = {}
    for title, lines in subsections(secs["SECTIONS AND KEYS"]):
        kind = ss_kind(title)
        if kind is None:
            continue
        items = out.setdefault(kind, [])
        for ln in lines:
            m = re.match(r"^\.It Cm (\w+)(.*)$", ln)
            if m:
                rest = m.group(2)
                typ = re.sub(r"^\s*No\s*=\s*", "", rest)
                words = [w for w in typ.split() if w not in ("Ar", "|")]
                items.append((m.group(1), words, []))
            elif items and ln.startswith(".It"):
                items.append((None, [], []))
            elif items:
                items[-1][2].append(ln)
    return {k: [i for i in v if i[0]] for k, v in out.items()}


def page_ignored():
    """{kind or "sections": [names]} from the "Ignored qBitrr keys" list."""
    secs = sections(read(MAN5))
    lines = dict(subsections(secs["SECTIONS AND KEYS"]))["Ignored qBitrr keys"]
    out, cur = {}, None
    for ln in lines:
        m = re.match(r"^\.It (?:Ic )?(.*)$", ln)
        if m:
            t = m.group(1)
            cur = "sections" if t == "sections" else {
                "[Settings]": "settings", "[qBit*]": "qbit", "[<Arr>]": "arr",
                "[<Arr>.Torrent]": "torrent",
                "[<Arr>.Torrent.SeedingMode]": "seeding",
                "[[*.Trackers]]": "tracker"}[t]
            out[cur] = []
            continue
        if cur is None or ln.startswith((".El", ".Pp")):
            continue
        out[cur].extend(re.findall(r"(?:Cm|Ic) (\S+)", ln))
    return out


# Values of each documented type; check-config must accept them.
TYPE_VALUES = {
    "path": '"doc-file.txt"', "string": '"doc-value"', "duration": '"2h"',
    "minutes": '"1h"', "size": '"100G"', "integer": "5", "number": "1.5",
    "fraction": "0.5", "boolean": "yes",
    "list": '["/downloads=/mnt/downloads", "/b=/c"]',
    "URL": '"https://hooks.example.com/doc"', "host": '"qbit.example.com"',
    "Auto": '"copy"', "mode": "-1", "command": '"/bin/true"', "and": '"or"',
}

SECTION_OF = {"settings": "Settings", "qbit": "qBit", "arr": "Radarr-Doc",
              "torrent": "Radarr-Doc.Torrent",
              "seeding": "Radarr-Doc.Torrent.SeedingMode",
              "tracker": "[Radarr-Doc.Torrent.Trackers]"}


def render_ini(secs):
    out = []
    for name, keys in secs.items():
        out.append("[%s]" % name)
        out.extend("%s = %s" % kv for kv in keys.items())
        out.append("")
    return "\n".join(out)


def base_config():
    # Two instances, so that "Disabled = yes" on one still leaves one.
    return {"qBit": {}, "qBit-Other": {"Host": '"other.example"'},
            "Radarr-Doc": {"Category": '"doc"'},
            "[Radarr-Doc.Torrent.Trackers]": {"URI": '"https://doc.example/a"'}}


def parse_normalised(text):
    """check-config output as {section: {key: raw value}}."""
    out, cur, key = {}, None, None
    for ln in text.splitlines():
        if ln.startswith("#") or not ln.strip():
            continue
        m = re.match(r"^\[(.+)\]$", ln)
        if m:
            cur = out.setdefault(m.group(1), {})
            continue
        m = re.match(r"^(\w+) = (.*)$", ln)
        if m and cur is not None:
            key = m.group(1)
            cur[key] = m.group(2)
        elif key is not None and cur is not None:
            cur[key] += " " + ln.strip()
    return out


QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def documented_default(body):
    """The default named in a key's description, as text, or None."""
    for i, ln in enumerate(body):
        m = re.match(r"^Default(?:,? for Radarr(?: and Sonarr)?)?:\s*(.*)$", ln)
        if not m:
            continue
        rest = m.group(1).strip()
        if rest:
            return unescape(re.split(r"[.,;]\s|[.,;]?$", rest, 1)[0]).strip()
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt.startswith(".Bd"):
            block = []
            for b in body[i + 2:]:
                if b.startswith(".Ed"):
                    break
                block.append(b)
            return unescape(" ".join(block))
        m = re.match(r"^\.(Dq|Li) (.*?)(?: [.;,])?$", nxt)
        if m:
            v = unescape(m.group(2))
            return '"%s"' % v if m.group(1) == "Dq" else v
    return None


def same_value(doc, printed):
    """Does a documented default match what check-config printed?"""
    if doc.startswith("unset"):
        return printed in (None, '""')
    if doc.startswith("["):
        # Lists of extensions are printed lower-cased unless
        # CaseSensitiveMatches is set.
        return [q.lower() for q in QUOTED.findall(doc)] == \
            [q.lower() for q in QUOTED.findall(printed or "")]
    if printed is None:
        return False
    try:
        return float(doc) == float(printed)
    except ValueError:
        return doc.strip('"').lower() == printed.strip('"').lower()


# ---------------------------------------------------------------------------
# (1)-(3): options, commands, keys
# ---------------------------------------------------------------------------

class ManPageCommandTest(IntegrationTestCase):
    def setUp(self):
        super().setUp()
        self.man = read(MAN1)
        self.secs = sections(self.man)

    def test_options_match_help(self):
        """Every --help option is an Fl item of OPTIONS, paired the same way,
        and the page names no option --help lacks."""
        hopts = help_options()
        self.assertGreaterEqual(len(hopts), 10, hopts)
        help_set = {o for pair in hopts for o in pair if o}
        items = [fl_flags(ln) for ln in self.secs["OPTIONS"]
                 if ln.startswith(".It") and "Fl" in ln.split()]
        man_set = {o for it in items for o in it}
        self.assertEqual(help_set - man_set, set(),
                         "in --help but not in OPTIONS of qbitrr-sweep.1")
        self.assertEqual(man_set - help_set, set(),
                         "in OPTIONS of qbitrr-sweep.1 but not in --help")
        for short, long_ in hopts:
            want = {o for o in (short, long_) if o}
            self.assertIn(want, [set(i) for i in items],
                          "%s should be one .It item" % sorted(want))

    def test_synopsis_options(self):
        """SYNOPSIS shows every option of --help (in one of its forms) and
        no other."""
        hopts = help_options()
        help_set = {o for pair in hopts for o in pair if o}
        syn = {o for ln in self.secs["SYNOPSIS"] for o in fl_flags(ln)}
        self.assertEqual(syn - help_set, set())
        for pair in hopts:
            self.assertTrue(syn & set(pair), "%s not in SYNOPSIS" % (pair,))

    def test_every_option_in_text_exists(self):
        """No Fl anywhere in the page names an option --help lacks."""
        help_set = {o for pair in help_options() for o in pair if o}
        every = {o for ln in self.man.splitlines() if ln.startswith(".")
                 for o in fl_flags(ln)}
        self.assertEqual(every - help_set, set())

    def test_commands_match_help(self):
        cmds = help_commands()
        self.assertEqual(set(cmds), {"sweep", "status", "check-config",
                                     "explain", "history"} | set(cmds))
        documented = [re.match(r"^\.It Cm ([a-z-]+)", ln).group(1)
                      for ln in self.secs["COMMANDS"]
                      if re.match(r"^\.It Cm [a-z-]+", ln)]
        self.assertEqual(sorted(documented), sorted(cmds))
        syn = set(re.findall(r"Cm ([a-z-]+)", "\n".join(self.secs["SYNOPSIS"])))
        self.assertEqual(syn, set(cmds))

    def test_exit_statuses(self):
        """EXIT STATUS lists exactly the codes of src/sweep.h, as --help does."""
        documented = {int(m) for m in re.findall(
            r"^\.It (\d+)$", "\n".join(self.secs["EXIT STATUS"]), re.M)}
        self.assertEqual(documented, code_exit_codes())
        m = re.search(r"Exit status:(.*)", help_text(), re.S)
        self.assertEqual({int(n) for n in re.findall(r"\b(\d+) ", m.group(1))},
                         code_exit_codes())

    def test_rules_in_order(self):
        """RULES names the rule chain of src/policy.c in its order."""
        tags = [unescape(ln[4:].strip()) for ln in self.secs["RULES"]
                if ln.startswith(".It ")]
        chain = code_rule_names()
        self.assertGreaterEqual(len(chain), 10)
        self.assertEqual(tags[0], "ignored")
        self.assertEqual(tags[1:1 + len(chain)], chain)
        for beside in ("rate-limits", "free-space"):
            self.assertIn(beside, tags)

    def test_action_and_result_vocabulary(self):
        lists, cur = [], None
        for ln in self.secs["JSON OUTPUT"]:
            if ln.startswith(".Bl -tag"):
                cur = []
            elif ln.startswith(".El") and cur is not None:
                lists.append(cur)
                cur = None
            elif cur is not None:
                m = re.match(r"^\.It Cm (\w+)", ln)
                if m:
                    cur.append(m.group(1))
        self.assertEqual(len(lists), 2, "an action list and a result list")
        self.assertEqual(lists[0], code_action_names())
        self.assertEqual(set(lists[1]), code_results())
        self.assertEqual(set(lists[1]),
                         {"done", "planned", "failed", "skipped", "held",
                          "intended", "interrupted"})

    def test_json_shape_documented(self):
        """The keys of a real --json sweep document appear in JSON OUTPUT."""
        port = free_port()      # nothing listens: the instance is unreachable
        cfg = write_config(self.tmp, "[qBit]\nHost = 127.0.0.1\nPort = %d\n"
                           "[Radarr-Doc]\nCategory = doc\n" % port)
        r = run_tool(["-c", cfg, "-s", os.path.join(self.tmp, "s.db"), "--json"])
        self.assertEqual(r.rc, 1, r)
        doc = r.json()
        text = "\n".join(self.secs["JSON OUTPUT"])
        self.assertIn("stats", doc)
        self.assertIn("exit_status", doc)
        for k in list(doc) + list(doc["instances"][0]) + list(doc["stats"]):
            self.assertIn('"%s"' % k, text)
        # The torrent keys of torrent_json() (no torrent is found here).
        src = read(os.path.join(SRC, "sweep_commands.c"))
        fn = src[src.index("torrent_json(const struct item *it)"):]
        fn = fn[:fn.index("action_json(const struct outcome *o)")]
        keys = re.findall(r'"(\w+)", ', fn[fn.index("json_pack("):])
        self.assertIn("ratio", keys)
        for k in keys:
            self.assertIn('"%s"' % k, text)

    def run_stderr_to_file(self, args, journal_stream):
        """Run the tool with stderr redirected into a file, as systemd
        connects it to the journal; journal_stream(st) gives JOURNAL_STREAM
        from that file's stat.  Returns (rc, stderr text)."""
        err = os.path.join(self.tmp, "stderr-%d" % len(os.listdir(self.tmp)))
        with open(err, "w") as f:
            st = os.fstat(f.fileno())
            env = _clean_env({"JOURNAL_STREAM": journal_stream(st)})
            env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
            env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
            p = subprocess.run([BINARY] + args, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=f, env=env,
                               timeout=120)
        text = read(err)
        for m in SANITIZER_MARKERS:
            self.assertNotIn(m, text)
        return p.returncode, text

    def test_logging_prefixes(self):
        """The LOGGING section's two line forms: the program name, or the
        sd-daemon priority when JOURNAL_STREAM names stderr's dev:inode."""
        port = free_port()
        cfg = write_config(self.tmp, "[qBit-Doc]\nHost = 127.0.0.1\nPort = %d\n"
                           % port)
        r = run_tool(["-c", cfg, "-n"], env={"JOURNAL_STREAM": None})
        self.assertEqual(r.rc, 1, r)
        self.assertRegex(r.stderr, r"(?m)^qbitrr-sweep: error: qBit-Doc: ")
        # stderr is the stream JOURNAL_STREAM names: priorities, no name.
        rc, err = self.run_stderr_to_file(
            ["-c", cfg, "-n"], lambda st: "%d:%d" % (st.st_dev, st.st_ino))
        self.assertEqual(rc, 1, err)
        self.assertRegex(err, r"(?m)^<3>error: qBit-Doc: ")
        self.assertNotIn("qbitrr-sweep:", err)
        for line in err.splitlines():
            self.assertRegex(line, r"^<[3-7]>")
        # A JOURNAL_STREAM naming another file (stderr redirected inside
        # the service) is ignored: the normal prefix.
        rc, err = self.run_stderr_to_file(
            ["-c", cfg, "-n"], lambda st: "%d:%d" % (st.st_dev, st.st_ino + 1))
        self.assertEqual(rc, 1, err)
        self.assertRegex(err, r"(?m)^qbitrr-sweep: error: qBit-Doc: ")
        self.assertNotRegex(err, r"(?m)^<\d>")
        # Nor is one that names no file at all (no inode is 0).
        r = run_tool(["-c", cfg, "-n"], env={"JOURNAL_STREAM": "0:0"})
        self.assertRegex(r.stderr, r"(?m)^qbitrr-sweep: error: qBit-Doc: ")
        self.assertNotRegex(r.stderr, r"(?m)^<\d>")
        logging = "\n".join(self.secs["LOGGING"])
        for prio in ("<3>", "<4>", "<5>", "<6>", "<7>"):
            self.assertIn(prio, logging)
        self.assertIn("JOURNAL_STREAM", logging)
        self.assertIn("inode", logging)


class ManPageConfigTest(IntegrationTestCase):
    def test_keys_match_code(self):
        """qbitrr.ini(5) documents exactly the keys of config_keys.c, per section."""
        page = {k: [i[0] for i in v] for k, v in page_keys().items()}
        code = code_keys()
        for kind in SK_KIND.values():
            with self.subTest(section=kind):
                self.assertEqual(len(page.get(kind, [])),
                                 len(set(page.get(kind, []))), "duplicates")
                self.assertEqual(set(page.get(kind, [])), code[kind])

    def test_sample_keys_documented(self):
        """Every key of qbitrr.ini.sample is documented in its section."""
        page = {k: {i[0] for i in v} for k, v in page_keys().items()}
        every = set().union(*page.values())
        kind, found = None, 0
        for ln in read(SAMPLE).splitlines():
            m = re.match(r"^#?\s*\[(\[?[^\]]+\]?)\]\s*$", ln)
            if m:
                name = m.group(1)
                kind = ("tracker" if name.endswith(".Trackers]") else
                        "seeding" if name.endswith(".Torrent.SeedingMode") else
                        "torrent" if name.endswith(".Torrent") else
                        "settings" if name == "Settings" else
                        "qbit" if name.startswith("qBit") else "arr")
                continue
            m = re.match(r"^#?\s*([A-Za-z]\w*)\s*=", ln)
            if not m:
                continue
            found += 1
            with self.subTest(key=m.group(1), section=kind):
                self.assertIn(m.group(1), page.get(kind, every) if kind else every)
        self.assertGreater(found, 40)

    def test_documented_keys_accepted(self):
        """check-config takes every documented key with a value of its
        documented type: no warning, and the key in the normalised output."""
        with open(os.path.join(self.tmp, "doc-file.txt"), "w") as f:
            f.write("s3cret\n")
        os.chmod(os.path.join(self.tmp, "doc-file.txt"), 0o600)
        n = 0
        for kind, items in page_keys().items():
            for key, words, _ in items:
                with self.subTest(key=key, section=kind):
                    self.assertTrue(words, "%s: no type given" % key)
                    self.assertIn(words[0], TYPE_VALUES,
                                  "%s: unknown type %r" % (key, words[0]))
                    secs = base_config()
                    secs.setdefault(SECTION_OF[kind], {})[key] = \
                        TYPE_VALUES[words[0]]
                    cfg = write_config(self.tmp, render_ini(secs))
                    r = run_tool(["-c", cfg, "check-config"])
                    self.assertEqual(r.rc, 0, r)
                    # Only the documented warnings on qBitrr features not
                    # done here (RemoveIfExists, SuperSeedMode).
                    self.assertEqual([ln for ln in r.stderr.splitlines()
                                      if ": qBitrr " not in ln], [])
                    self.assertIn(key, parse_normalised(r.stdout)
                                  [SECTION_OF[kind]])
                    n += 1
        self.assertGreater(n, 40)

    def test_documented_defaults(self):
        """Every "Default:" in qbitrr.ini(5) is what check-config prints."""
        cfg = write_config(self.tmp, render_ini(base_config()))
        r = run_tool(["-c", cfg, "check-config"])
        self.assertEqual(r.rc, 0, r)
        printed = parse_normalised(r.stdout)
        checked = 0
        for kind, items in page_keys().items():
            for key, _, body in items:
                doc = documented_default(body)
                if key == "Category" or (kind == "tracker" and key == "URI"):
                    continue            # required, no default
                with self.subTest(key=key, section=kind):
                    self.assertIsNotNone(doc, "%s: no default given" % key)
                    value = printed.get(SECTION_OF[kind], {}).get(key)
                    self.assertTrue(same_value(doc, value),
                                    "%s: documented %r, check-config says %r"
                                    % (key, doc, value))
                    checked += 1
        self.assertGreater(checked, 40)

    def test_ignored_keys(self):
        """The ignored qBitrr keys listed are config_keys.c's, and are taken
        without a warning (an info line at -v)."""
        page = page_ignored()
        code = code_unused_keys()
        for kind in SK_KIND.values():
            with self.subTest(section=kind):
                self.assertEqual(set(page.get(kind, [])), code[kind])
        secs = base_config()
        for kind in SK_KIND.values():
            for key in page.get(kind, []):
                secs.setdefault(SECTION_OF[kind], {})[
                    key.replace("*", "Doc")] = "0"
        text = render_ini(secs) + "\n[WebUI]\nHost = 0.0.0.0\n" \
            "[Radarr-Doc.EntrySearch]\nSearchMissing = true\n"
        cfg = write_config(self.tmp, text)
        r = run_tool(["-c", cfg, "check-config"])
        self.assertEqual((r.rc, r.stderr), (0, ""))
        r = run_tool(["-c", cfg, "-v", "check-config"])
        self.assertNotIn("unknown", r.stderr)
        self.assertGreaterEqual(r.stderr.count("not used by qbitrr-sweep"),
                                sum(len(v) for v in code.values()))
        self.assertIn("[WebUI]", page["sections"])


# ---------------------------------------------------------------------------
# (4) mandoc
# ---------------------------------------------------------------------------

class MandocLintTest(unittest.TestCase):
    def test_lint_clean(self):
        if shutil.which("mandoc") is None:
            self.skipTest("mandoc not installed")
        for page in (MAN1, MAN5):
            with self.subTest(page=os.path.basename(page)):
                p = subprocess.run(["mandoc", "-Tlint", "-W", "warning", page],
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
                self.assertEqual((p.returncode, p.stdout), (0, ""))


# ---------------------------------------------------------------------------
# (5) example configs
# ---------------------------------------------------------------------------

SECRET_KEYS = re.compile(r'(?mi)^\s*(?:PasswordFile|APIKeyFile)\s*[=:]\s*"?([^"\s]+)"?')


def check_config_text(testcase, text, name):
    """check-config on text in a fresh folder, with its secret files."""
    with TempDir() as d:
        for f in SECRET_KEYS.findall(text):
            testcase.assertFalse(os.path.isabs(f),
                                 "%s: %s: use a relative path" % (name, f))
            with open(os.path.join(d, f), "w") as fp:
                fp.write("not-a-real-secret\n")
            os.chmod(os.path.join(d, f), 0o600)
        cfg = os.path.join(d, name)
        with open(cfg, "w") as fp:
            fp.write(text)
        os.chmod(cfg, 0o600)
        return run_tool(["-c", cfg, "check-config"])


class ExampleConfigTest(unittest.TestCase):
    LAYOUTS = ("single-instance.ini", "ha.ini", "load-distribution.ini",
               "content-separation.ini")

    def test_examples_pass_check_config(self):
        found = sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".ini"))
        for f in self.LAYOUTS:
            self.assertIn(f, found)
        for f in found:
            with self.subTest(example=f):
                text = read(os.path.join(EXAMPLES, f))
                r = check_config_text(self, text, f)
                self.assertEqual(r.rc, 0, r)
                self.assertEqual(r.stderr, "")
                cfg = parse_normalised(r.stdout)
                insts = [s for s in cfg if s.startswith("qBit")]
                arrs = [s for s in cfg if re.match(r"^(Radarr|Sonarr|Lidarr)[^.]*$", s)]
                self.assertTrue(insts and arrs)
                want = {"ha.ini": (2, 1), "load-distribution.ini": (3, 1),
                        "content-separation.ini": (2, 2),
                        "single-instance.ini": (1, 2)}.get(f)
                if want:
                    self.assertEqual((len(insts), len(arrs)), want)

    def test_man_page_examples_pass_check_config(self):
        lines = sections(read(MAN5))["EXAMPLES"]
        blocks, cur = [], None
        for ln in lines:
            if ln.startswith(".Bd"):
                cur = []
            elif ln.startswith(".Ed"):
                blocks.append("\n".join(cur) + "\n")
                cur = None
            elif cur is not None:
                cur.append(unescape(ln))
        self.assertGreaterEqual(len(blocks), 4)
        for i, text in enumerate(blocks):
            with self.subTest(example=i + 1):
                r = check_config_text(self, text, "qbitrr.ini")
                self.assertEqual((r.rc, r.stderr), (0, ""))


# ---------------------------------------------------------------------------
# (6) systemd units and crontab
# ---------------------------------------------------------------------------

def unit_directives(path):
    """[(section, key, value)] of a unit file."""
    out, sec = [], None
    for ln in read(path).splitlines():
        ln = ln.strip()
        if not ln or ln.startswith(("#", ";")):
            continue
        m = re.match(r"^\[(.+)\]$", ln)
        if m:
            sec = m.group(1)
            continue
        k, _, v = ln.partition("=")
        out.append((sec, k.strip(), v.strip()))
    return out


def tool_options(cmdline):
    """The option words of a qbitrr-sweep command line."""
    return [w.split("=")[0] for w in cmdline.split() if w.startswith("-")]


class SystemdUnitTest(unittest.TestCase):
    SERVICE = os.path.join(EXAMPLES, "qbitrr-sweep.service")
    TIMER = os.path.join(EXAMPLES, "qbitrr-sweep.timer")

    def test_service_hardening(self):
        d = unit_directives(self.SERVICE)
        svc = {}
        for sec, k, v in d:
            if sec == "Service":
                svc.setdefault(k, []).append(v)
        want = {"Type": "oneshot", "DynamicUser": "yes",
                "StateDirectory": "qbitrr", "ProtectSystem": "strict",
                "ProtectHome": "yes", "PrivateTmp": "yes",
                "NoNewPrivileges": "yes", "CapabilityBoundingSet": "",
                "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX"}
        for k, v in want.items():
            self.assertIn(v, svc.get(k, []), k)
        self.assertIn("@system-service", svc.get("SystemCallFilter", []))
        self.assertTrue(svc.get("LoadCredential"))
        exec_start = svc["ExecStart"][0]
        self.assertIn("--state /var/lib/qbitrr/qbitrr.db", exec_start)
        help_set = {o for pair in help_options() for o in pair if o}
        self.assertEqual(set(tool_options(exec_start)) - help_set, set())

    def test_service_credentials_match_example_config(self):
        """The LoadCredential= names are the secret files single-instance.ini
        names, and the config read from the credentials folder works."""
        creds = {}
        for sec, k, v in unit_directives(self.SERVICE):
            if k == "LoadCredential":
                name, _, src = v.partition(":")
                creds[name] = src
        self.assertIn("qbitrr.ini", creds)
        text = read(os.path.join(EXAMPLES, "single-instance.ini"))
        self.assertEqual(set(creds) - {"qbitrr.ini"},
                         set(SECRET_KEYS.findall(text)))
        for name, src in creds.items():
            self.assertEqual(src, "/etc/qbitrr/" + name)
        r = check_config_text(self, text, "qbitrr.ini")
        self.assertEqual((r.rc, r.stderr), (0, ""))

    def test_timer(self):
        t = {(s, k): v for s, k, v in unit_directives(self.TIMER)}
        self.assertEqual(t[("Timer", "OnCalendar")], "*:0/5")
        self.assertEqual(t[("Timer", "Persistent")], "true")
        self.assertIn(("Timer", "RandomizedDelaySec"), t)
        self.assertEqual(t[("Install", "WantedBy")], "timers.target")

    def _verify_root(self, d):
        """A --root tree for systemd-analyze: the system units and the tool."""
        for cand in ("/usr/lib/systemd/system", "/lib/systemd/system"):
            if os.path.isdir(cand):
                shutil.copytree(cand, os.path.join(d, "usr/lib/systemd/system"),
                                symlinks=True)
                break
        else:
            self.skipTest("no systemd unit directory on this machine")
        os.makedirs(os.path.join(d, "usr/local/bin"))
        shutil.copy(BINARY, os.path.join(d, "usr/local/bin/qbitrr-sweep"))
        os.makedirs(os.path.join(d, "etc/systemd/system"))

    def _analyze(self, root, *args):
        p = subprocess.run(["systemd-analyze", "--man=no", "--root=" + root]
                           + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=60)
        return p.returncode, p.stdout

    def test_systemd_analyze_verify(self):
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze not installed (Debian: systemd)")
        with TempDir() as d:
            self._verify_root(d)
            units = os.path.join(d, "etc/systemd/system")
            # First a unit known to be good: does verify work here at all?
            with open(os.path.join(units, "docs-probe.service"), "w") as f:
                f.write("[Service]\nType=oneshot\n"
                        "ExecStart=/usr/local/bin/qbitrr-sweep --version\n")
            rc, out = self._analyze(d, "verify", "docs-probe.service")
            if rc != 0 or out.strip():
                self.skipTest("systemd-analyze verify does not work here: "
                              + out.strip()[:200])
            for f in ("qbitrr-sweep.service", "qbitrr-sweep.timer"):
                shutil.copy(os.path.join(EXAMPLES, f), units)
            rc, out = self._analyze(d, "verify", "qbitrr-sweep.service",
                                    "qbitrr-sweep.timer")
            self.assertEqual((rc, out), (0, ""))

    def test_systemd_analyze_security(self):
        """The service's exposure level stays low (systemd 250 or later)."""
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze not installed (Debian: systemd)")
        with TempDir() as d:
            self._verify_root(d)
            shutil.copy(self.SERVICE, os.path.join(d, "etc/systemd/system"))
            rc, out = self._analyze(d, "security", "--offline=true",
                                    "qbitrr-sweep.service")
            m = re.search(r"Overall exposure level for qbitrr-sweep.service: "
                          r"([0-9.]+)", out)
            if m is None:
                self.skipTest("systemd-analyze security --offline unsupported: "
                              + out.strip()[-200:])
            self.assertLess(float(m.group(1)), 2.0, out[-3000:])

    def test_crontab(self):
        text = read(os.path.join(EXAMPLES, "crontab"))
        self.assertRegex(text, r"(?m)^MAILTO=")
        jobs = [ln for ln in text.splitlines()
                if ln.strip() and not ln.startswith("#") and "=" not in
                ln.split()[0]]
        self.assertEqual(len(jobs), 1, jobs)
        fields = jobs[0].split(None, 5)
        self.assertEqual(len(fields), 6)
        cmd = fields[5]
        self.assertNotIn("flock", cmd)
        self.assertTrue(cmd.split()[0].endswith("/qbitrr-sweep"))
        help_set = {o for pair in help_options() for o in pair if o}
        self.assertIn("-q", tool_options(cmd))
        self.assertEqual(set(tool_options(cmd)) - help_set, set())


# ---------------------------------------------------------------------------
# (7) sweep-report.sh
# ---------------------------------------------------------------------------

SCRIPT = os.path.join(EXAMPLES, "sweep-report.sh")

STUB_SWEEP = """#!/bin/sh
printf '%s\\n' "$*" >"$STUB_DIR/args"
[ -f "$STUB_DIR/out.json" ] && cat "$STUB_DIR/out.json"
echo "qbitrr-sweep: a log line" >&2
exit "$(cat "$STUB_DIR/rc")"
"""

STUB_MAIL = """#!/bin/sh
n=$(ls "$STUB_DIR" | grep -c '^mail\\.')
{ printf 'ARGS:'; printf ' [%s]' "$@"; printf '\\n'; cat; } >"$STUB_DIR/mail.$n"
"""

INST_UP = {"name": "qBit", "url": "http://qbit.example:8080", "reachable": True,
           "version": "v4.5.2", "api_version": "2.8.19", "torrents": 3,
           "error": None}
INST_DOWN = {"name": "qBit-Backup", "url": "http://backup.example:8080",
             "reachable": False, "version": None, "api_version": None,
             "torrents": 0, "error": "app/version: Couldn't connect to server"}


def action(result, kind="delete", error=None):
    return {"instance": "qBit", "hash": "3f2a9c1e" + "0" * 32,
            "name": "Some.Movie.2024", "action": kind, "rule": "stalled",
            "reason": "stalled for 2 h", "detail": "files deleted",
            "result": result, "error": error, "arr": "Radarr-Movies"}


def sweep_doc(instances, actions):
    return {"dry_run": False, "started": "2026-11-26T03:00:00Z",
            "duration_ms": 42, "instances": instances, "torrents": [],
            "actions": actions}


class SweepReportTest(IntegrationTestCase):
    def setUp(self):
        super().setUp()
        if shutil.which("jq") is None:
            self.skipTest("jq not installed (Debian: jq)")
        self.stubs = os.path.join(self.tmp, "bin")
        os.makedirs(self.stubs)
        for name, body in (("qbitrr-sweep", STUB_SWEEP), ("mail", STUB_MAIL)):
            p = os.path.join(self.stubs, name)
            with open(p, "w") as f:
                f.write(body)
            os.chmod(p, 0o755)

    def run_script(self, doc, rc=0, args=("-c", "/etc/qbitrr/qbitrr.ini"),
                   env=None):
        import json
        for f in os.listdir(self.tmp):
            if f.startswith("mail.") or f == "out.json":
                os.unlink(os.path.join(self.tmp, f))
        if doc is not None:
            with open(os.path.join(self.tmp, "out.json"), "w") as f:
                json.dump(doc, f, indent=2)
        with open(os.path.join(self.tmp, "rc"), "w") as f:
            f.write("%d\n" % rc)
        e = {"PATH": self.stubs + ":/usr/bin:/bin", "STUB_DIR": self.tmp,
             "TMPDIR": self.tmp, "QBITRR_REPORT_TO": "ops@example.com"}
        e.update(env or {})
        p = subprocess.run(["sh", SCRIPT] + list(args), env=e,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        mails = []
        for f in sorted(os.listdir(self.tmp)):
            if f.startswith("mail."):
                mails.append(read(os.path.join(self.tmp, f)))
        return p, mails

    def test_syntax(self):
        p = subprocess.run(["sh", "-n", SCRIPT], stderr=subprocess.PIPE,
                           text=True)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        self.assertTrue(os.stat(SCRIPT).st_mode & stat.S_IXUSR)
        self.assertTrue(read(SCRIPT).startswith("#!/bin/sh\n"))
        self.assertRegex(read(SCRIPT), r"(?m)^set -eu$")

    def test_shellcheck(self):
        if shutil.which("shellcheck") is None:
            self.skipTest("shellcheck not installed")
        p = subprocess.run(["shellcheck", "-s", "sh", SCRIPT],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        self.assertEqual((p.returncode, p.stdout), (0, ""))

    def test_quiet_sweep_mails_nothing(self):
        p, mails = self.run_script(sweep_doc([INST_UP], []))
        self.assertEqual((p.returncode, mails), (0, []), p.stderr)
        args = read(os.path.join(self.tmp, "args"))
        self.assertIn("--json", args)
        self.assertIn("-c /etc/qbitrr/qbitrr.ini", args)

    def test_actions_are_mailed(self):
        p, mails = self.run_script(sweep_doc([INST_UP], [action("done")]))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(mails), 1)
        m = mails[0]
        self.assertIn("[-s] [qbitrr-sweep on ", m)
        self.assertIn("1 action(s)", m)
        self.assertIn("[ops@example.com]", m)
        self.assertIn("done: 1 (delete 1)", m)
        self.assertIn("Some.Movie.2024", m)
        self.assertIn("qbitrr-sweep: a log line", m)

    def test_failed_actions_are_mailed(self):
        p, mails = self.run_script(
            sweep_doc([INST_UP], [action("done"),
                                  action("failed", "import", "HTTP 500")]),
            rc=1)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(len(mails), 1)
        self.assertIn("1 failed or held", mails[0])
        self.assertIn("failed: 1 (import 1)", mails[0])
        self.assertIn("HTTP 500", mails[0])

    def test_unreachable_instance_is_mailed(self):
        p, mails = self.run_script(sweep_doc([INST_UP, INST_DOWN], []), rc=1)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(len(mails), 1)
        self.assertIn("1 instance(s) unreachable", mails[0])
        self.assertIn("qBit-Backup (http://backup.example:8080): "
                      "app/version: Couldn't connect to server", mails[0])

    def test_no_report_is_mailed(self):
        p, mails = self.run_script(None, rc=78)
        self.assertEqual(p.returncode, 78)
        self.assertEqual(len(mails), 1)
        self.assertIn("failed (exit status 78)", mails[0])

    def test_locked_mails_nothing(self):
        p, mails = self.run_script(None, rc=75)
        self.assertEqual((p.returncode, mails), (0, []))

    def test_with_the_real_tool(self):
        """The script reads the real --json document: an unreachable
        instance is mailed."""
        port = free_port()
        cfg = write_config(self.tmp, "[qBit-Doc]\nHost = 127.0.0.1\nPort = %d\n"
                           "[Radarr-Doc]\nCategory = doc\n" % port)
        p, mails = self.run_script(
            None, args=("-c", cfg, "-s", os.path.join(self.tmp, "s.db")),
            env={"QBITRR_SWEEP": BINARY,
                 "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0"})
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(len(mails), 1)
        self.assertIn("1 instance(s) unreachable", mails[0])
        self.assertIn("qBit-Doc (http://127.0.0.1:%d)" % port, mails[0])
        self.assertNotIn("Sanitizer", mails[0])


if __name__ == "__main__":
    unittest.main()
