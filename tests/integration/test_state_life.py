"""Issue 17: state you can trust over years.  A re-added torrent starts a
new life; the sweep proves it can record before it acts; clock jumps
refuse destructive actions; a blown fuse leaves one summary."""
import os
import sqlite3
import time

import harness as H
from common import Env, instance_section, arr_section, wait_seeded

SEEDING = ("stalledUP", "uploading")


class Base(Env):
    n_instances = 1

    def setup_one(self, settings="", seeding="RemoveTorrent = 2\nMaxSeedingTime = 1h\n"):
        self.radarr = self.fake_arr("radarr")
        self.a = self.qbt[0]
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\nImportDelay = 0\n%s\n\n"
                    % settings
                    + instance_section("qBit", self.a)
                    + arr_section("Radarr-Movies", "radarr", self.radarr)
                    + "[Radarr-Movies.Torrent.SeedingMode]\n%s\n" % seeding)
        return self.a

    def scans(self):
        return [c["body"] for c in self.radarr.calls()
                if c["method"] == "POST" and c["body"] and c["status"] == 201
                and c["body"].get("name") == "DownloadedMoviesScan"]

    def db_exec(self, sql, params=()):
        db = sqlite3.connect(self.state)
        try:
            db.execute(sql, params)
            db.commit()
        finally:
            db.close()

    def seeded_torrent(self, name):
        spec = self.torrent(name, files={"movie.mkv": 40000})
        self.a.add(spec, category="radarr", skip_checking=True)
        self.a.wait_state(spec.hash, SEEDING)
        time.sleep(1.1)         # completion_on strictly in the past
        return spec



class LifeTest(Base):

    def test_readded_after_delete_is_imported_and_seeds_its_full_goal(self):
        # The seeding clock is qBittorrent's seeding_time (as in qBitrr);
        a = self.setup_one(seeding="RemoveTorrent = 2\nMaxSeedingTime = 2\n")
        spec = self.seeded_torrent("Comes.Back.2021")
        self.sweep(check=0)
        self.assertEqual(len(self.scans()), 1)
        # Its first life seeds its goal: removed.
        wait_seeded(a, spec, 2)
        r = self.sweep("--json", check=0)
        self.assertEqual([(x["action"], x["result"]) for x in r.json()["actions"]],
                         [("delete", "done")])
        H.wait_until(lambda: a.torrent(spec.hash) is None, what="first life deleted")
        old = self.rows()[0]
        self.assertIsNotNone(old["gone_at"])
        self.assertIsNotNone(old["import_sent_at"])

        # Added again (same hash): a new life.
        time.sleep(1.1)
        spec = self.seeded_torrent("Comes.Back.2021")
        t1 = int(time.time())
        r = self.sweep("--json", "-v", now=t1, check=0)
        acts = [(x["action"], x["result"]) for x in r.json()["actions"]]
        self.assertEqual(acts, [("import", "done")], r.stderr)
        self.assertIn("back after it was gone", r.stderr)
        self.assertEqual(len(self.scans()), 2)
        row = self.rows()[0]
        self.assertIsNone(row["gone_at"])
        self.assertEqual(row["first_seen"], t1)
        self.assertEqual(row["seeding_since"], t1)
        self.assertEqual(row["import_sent_at"], t1)
        self.assertEqual(row["import_result"], "queued")
        # (The import sweep removed nothing: the first life's goal is not carried over.)
        # Its full goal in this life: removed.
        wait_seeded(a, spec, 2)
        r = self.sweep("--json", check=0)
        self.assertEqual([(x["action"], x["result"]) for x in r.json()["actions"]],
                         [("delete", "done")])
        H.wait_until(lambda: a.torrent(spec.hash) is None, what="second life deleted")
        # Both lives stay in the audit.
        self.assertEqual([(x["action"], x["result"])
                          for x in self.audit("hash = ?", (spec.hash,))],
                         [("import", "done"), ("delete", "done"),
                          ("import", "done"), ("delete", "done")])
        r = self.sweep("history", spec.hash[:8], check=0)
        self.assertEqual(r.stdout.count(" import "), 2)

    def test_back_in_a_managed_category_is_the_same_life(self):
        a = self.setup_one()
        spec = self.seeded_torrent("Wanders.Off.2019")
        self.sweep(check=0)
        self.assertEqual(len(self.scans()), 1)
        a.create_category("elsewhere")
        a.post("torrents/setCategory", {"hashes": spec.hash, "category": "elsewhere"})
        H.wait_until(lambda: a.torrent(spec.hash)["category"] == "elsewhere")
        self.sweep(check=0)
        self.assertIsNotNone(self.rows()[0]["gone_at"])
        a.post("torrents/setCategory", {"hashes": spec.hash, "category": "radarr"})
        H.wait_until(lambda: a.torrent(spec.hash)["category"] == "radarr")
        r = self.sweep("--json", check=0)
        self.assertEqual([x for x in r.json()["actions"] if x["action"] == "import"], [])
        self.assertEqual(len(self.scans()), 1)
        self.assertIsNone(self.rows()[0]["gone_at"])


def wrapper(tmp, name, body):
    """An executable script standing in for the tool (H.BINARY)."""
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)
    return path


class UnwritableTest(Base):
    """The sweep proves it can record before touching any server."""

    def due_import_and_delete(self):
        """A torrent with an import due (a failed first try) and a delete due
        on another; returns (spec_import, spec_delete, now)."""
        a = self.setup_one()
        first = self.seeded_torrent("Seeded.Long.2018")
        self.sweep(check=0)                       # imported
        spec = self.seeded_torrent("Import.Due.2020")
        self.radarr.set_fault("POST", "/command", "500", count=1)
        self.sweep(check=1)                       # import failed: due again after 60 s
        self.assertEqual(len(self.scans()), 1)
        # Two hours idle in stalledUP by our record (qBitrr's idle seeding clock).
        self.db_exec("UPDATE torrents SET stalled_since = ? WHERE hash = ? "
                     "AND state = 'stalledUP'", (int(time.time()) - 7200, first.hash))
        return first, spec, int(time.time()) + 120

    def as_tool(self, body):
        real = H.BINARY
        self.addCleanup(setattr, H, "BINARY", real)
        H.BINARY = wrapper(self.tmp, "tool.sh", body.replace("@REAL@", real))

    def assert_nothing_sent(self, first, spec, calls_before):
        self.assertEqual([c for c in self.radarr.calls()[calls_before:]
                          if c["method"] != "GET"], [])
        self.assertIsNotNone(self.a.torrent(first.hash))
        self.assertTrue(os.path.exists(first.content_path))

    def assert_cause_without_bad_advice(self, r, cause):
        self.assertEqual(r.rc, 74, r)
        self.assertIn(cause, r.stderr)
        self.assertIn("nothing was sent", r.stderr)
        self.assertIn(self.state, r.stderr)
        for bad in ("move it aside", "delete", "remove it"):
            self.assertNotIn(bad, r.stderr.lower())

    def test_read_only_state_file_exits_74_before_any_action(self):
        first, spec, now = self.due_import_and_delete()
        calls = len(self.radarr.calls())
        os.chmod(self.state, 0o444)
        before = open(self.state, "rb").read()
        # As root the mode would not count: drop the capability that ignores it.
        self.as_tool('exec setpriv --bounding-set=-dac_override,-dac_read_search '
                     '"@REAL@" "$@"')
        r = self.sweep(now=now)
        self.assert_cause_without_bad_advice(r, "not writable")
        self.assert_nothing_sent(first, spec, calls)
        self.assertEqual(open(self.state, "rb").read(), before)
        # Reading still works, even in a folder that is read-only too.
        os.chmod(self.tmp, 0o555)
        self.addCleanup(os.chmod, self.tmp, 0o755)
        for cmd in (["history"], ["status"], ["explain", spec.hash[:8]]):
            r = self.sweep(*cmd, now=now)
            self.assertEqual(r.rc, 0, r)
        self.assertIn("Import.Due.2020", self.sweep("history", now=now).stdout)
        # Writable again: the due work happens, once.
        os.chmod(self.tmp, 0o755)
        os.chmod(self.state, 0o644)
        r = self.sweep("--json", now=now, check=0)
        self.assertEqual(sorted((x["action"], x["result"]) for x in r.json()["actions"]),
                         [("delete", "done"), ("import", "done")])
        self.assertEqual(len(self.scans()), 2)

    def test_full_disk_exits_74_before_any_action(self):
        first, spec, now = self.due_import_and_delete()
        calls = len(self.radarr.calls())
        mnt = os.path.join(self.tmp, "tiny")
        os.makedirs(mnt)
        # A private mount namespace: a tmpfs of 512 KiB holding a copy of the
        # state file, then filled to the last byte.
        self.as_tool('exec unshare -m sh -c \'mount -t tmpfs -o size=512k tmpfs "$0" && '
                     'cp "$1" "$0/qbitrr.db" && '
                     '{ dd if=/dev/zero of="$0/fill" bs=4k 2>/dev/null; '
                     'dd if=/dev/zero of="$0/fill2" bs=1 2>/dev/null; true; } && '
                     'shift && exec "@REAL@" -s "$0/qbitrr.db" "$@"\' '
                     '"%s" "%s" "$@"' % (mnt, self.state))
        r = self.sweep(now=now)
        self.assertEqual(r.rc, 74, r)
        self.assertIn("no space left", r.stderr)
        self.assertIn("nothing was sent", r.stderr)
        for bad in ("move it aside", "delete", "remove it"):
            self.assertNotIn(bad, r.stderr.lower())
        self.assert_nothing_sent(first, spec, calls)


class IntentTest(Base):
    """An action that changes a server is written down before it is sent."""

    def test_killed_after_writing_intents_never_repeats_the_import(self):
        a = self.setup_one()
        spec = self.seeded_torrent("Killed.Around.2022")
        r = self.sweep(env={"QBITRR_TEST_KILL_AT": "intents"})
        self.assertEqual(r.rc, -9, r)
        acts = self.audit("hash = ?", (spec.hash,))
        self.assertEqual([(x["action"], x["result"]) for x in acts], [("import", "intended")])
        row = self.rows()[0]
        self.assertIsNotNone(row["import_sent_at"])
        self.assertEqual(row["import_result"], "sent")
        # The next run settles the open intent and sends nothing again.
        r = self.sweep("--json", check=0)
        self.assertEqual([x for x in r.json()["actions"] if x["action"] == "import"], [])
        self.assertEqual(self.scans(), [])
        acts = self.audit("hash = ?", (spec.hash,))
        self.assertEqual([(x["action"], x["result"]) for x in acts], [("import", "interrupted")])
        self.assertIn("may have happened", acts[0]["error"])
        self.assertIn("interrupted", self.sweep("history", check=0).stdout)

    def test_killed_after_sending_a_delete_keeps_it_in_history(self):
        a = self.setup_one()
        spec = self.seeded_torrent("Deleted.Then.Killed")
        self.sweep(check=0)
        # Two hours idle in stalledUP by our record (qBitrr's idle seeding clock).
        self.db_exec("UPDATE torrents SET stalled_since = ? WHERE state = 'stalledUP'",
                     (int(time.time()) - 7200,))
        r = self.sweep(env={"QBITRR_TEST_KILL_AT": "act"})
        self.assertEqual(r.rc, -9, r)
        H.wait_until(lambda: a.torrent(spec.hash) is None, what="deleted")
        acts = self.audit("hash = ? AND action = 'delete'", (spec.hash,))
        self.assertEqual([x["result"] for x in acts], ["intended"])
        r = self.sweep("--json", check=0)
        self.assertEqual(r.json()["actions"], [])
        acts = self.audit("hash = ? AND action = 'delete'", (spec.hash,))
        self.assertEqual([x["result"] for x in acts], ["interrupted"])
        self.assertIsNotNone(self.rows()[0]["gone_at"])


YEAR = 365 * 86400


class ClockTest(Base):
    """A clock a year ahead or behind the last sweep deletes nothing."""

    def times(self):
        cols = ("first_seen", "last_seen", "stalled_since", "seeding_since",
                "import_sent_at", "import_next_try", "gone_at")
        return [r[c] for r in self.rows() for c in cols if r[c] is not None]

    def deletes(self, r):
        return [(x["name"], x["result"]) for x in r.json()["actions"]
                if x["action"] == "delete"]

    def held_rows(self):
        return [x for x in self.audit("result = 'held'")]

    def test_a_year_ahead_refuses_deletes_then_the_goal_counts_from_the_jump(self):
        a = self.setup_one()
        due = self.seeded_torrent("Clock.Due.2018")
        fresh = self.seeded_torrent("Clock.Fresh.2020")
        t0 = int(time.time())
        self.sweep(now=t0, check=0)
        # One has seeded two hours by our record (idle in stalledUP, qBitrr's
        # clock): due for removal anyway.
        self.db_exec("UPDATE torrents SET stalled_since = ? WHERE hash = ? "
                     "AND state = 'stalledUP'", (t0 - 7200, due.hash))
        r = self.sweep("--json", now=t0 + YEAR, check=1)
        self.assertIn("ahead of the last recorded sweep", r.stderr)
        self.assertIn("no deletion", r.stderr)
        self.assertEqual(self.deletes(r), [("Clock.Due.2018", "held")])
        held = self.held_rows()
        self.assertEqual(len(held), 1)
        self.assertIsNone(held[0]["hash"])
        self.assertIn("clock: 1 deletion(s) or blocklist(s) held", held[0]["reason"])
        self.assertIsNotNone(a.torrent(due.hash))
        self.assertLessEqual(max(self.times()), t0)    # nothing stamped a year ahead
        # Two runs agree: the new clock is accepted, the year counts for nothing.
        r = self.sweep("--json", now=t0 + YEAR + 60, check=0)
        self.assertIn("two runs agree", r.stderr)
        self.assertEqual(self.deletes(r), [("Clock.Due.2018", "done")])
        self.assertEqual(self.rows("hash = ?", (fresh.hash,))[0]["seeding_since"], t0 + YEAR)
        r = self.sweep("--json", now=t0 + YEAR + 1800, check=0)
        self.assertEqual(self.deletes(r), [])
        self.assertIsNotNone(a.torrent(fresh.hash))
        r = self.sweep("--json", now=t0 + YEAR + 3660, check=0)
        self.assertEqual(self.deletes(r), [("Clock.Fresh.2020", "done")])
        H.wait_until(lambda: a.torrent(fresh.hash) is None, what="deleted at its goal")

    def test_a_year_behind_then_corrected_deletes_nothing_early(self):
        a = self.setup_one()
        first = self.seeded_torrent("Clock.Before.2019")
        t0 = int(time.time())
        self.sweep(now=t0, check=0)
        second = self.seeded_torrent("Clock.During.2021")
        r = self.sweep("--json", now=t0 - YEAR, check=1)
        self.assertIn("behind the last recorded sweep", r.stderr)
        self.assertEqual(self.deletes(r), [])
        self.assertLessEqual(max(self.times()), t0)
        self.assertGreaterEqual(min(self.times()), t0 - 60)   # nothing a year back
        self.sweep(now=t0 - YEAR + 60, check=0)          # agreed: accepted
        self.assertLessEqual(max(self.times()), t0 - YEAR + 60)  # never in the future
        self.sweep(now=t0 - YEAR + 1800, check=0)
        # Corrected: a year ahead again, refused, then accepted.
        r = self.sweep("--json", now=t0 + 3600, check=1)
        self.assertEqual(self.deletes(r), [])
        r = self.sweep("--json", now=t0 + 3660, check=0)
        self.assertEqual(self.deletes(r), [])            # 31 min seen seeding
        self.assertIsNotNone(a.torrent(first.hash))
        self.assertIsNotNone(a.torrent(second.hash))
        r = self.sweep("--json", now=t0 + 3660 + 1800 + 60, check=0)
        self.assertEqual(sorted(self.deletes(r)), [("Clock.Before.2019", "done"),
                                                   ("Clock.During.2021", "done")])


class FuseTest(Base):

    def test_latched_fuse_records_one_summary_per_run_and_says_how_to_release(self):
        a = self.setup_one(settings="MaxDeletionsPerRun = 1")
        specs = [self.seeded_torrent("Fuse.Movie.%d" % i) for i in range(3)]
        t0 = int(time.time())
        self.sweep(now=t0, check=0)
        self.db_exec("UPDATE torrents SET stalled_since = ? WHERE state = 'stalledUP'",
                     (t0 - 7200,))
        for k in range(3):
            r = self.sweep("--json", now=t0 + 60 * (k + 1), check=1)
            self.assertEqual(sorted(x["result"] for x in r.json()["actions"]
                                    if x["action"] == "delete"), ["held"] * 3)
            self.assertIn("raise MaxDeletionsPerRun in [qBit]", r.stderr)
        held = self.audit("result = 'held'")
        self.assertEqual(len(held), 3)                  # one per run, not per torrent
        for h in held:
            self.assertEqual(h["instance"], "qBit")
            self.assertIsNone(h["hash"])
            self.assertIn("fuse: 3 deletion(s), blocklist(s) or re-search(es) held",
                          h["reason"])
            self.assertIn("raise MaxDeletionsPerRun in [qBit]", h["reason"])
        for s in specs:
            self.assertIsNotNone(a.torrent(s.hash))
        # Released as the message says.
        self.config(open(self.cfg).read().replace("[qBit]\n", "[qBit]\nMaxDeletionsPerRun = 3\n", 1))
        r = self.sweep("--json", now=t0 + 300, check=0)
        self.assertEqual(sorted(x["result"] for x in r.json()["actions"]
                                if x["action"] == "delete"), ["done"] * 3)


class RepeatTest(Base):

    def test_same_failure_recorded_once_and_forgotten_command_ends_verification_then_retries(self):
        a = self.setup_one(seeding="")
        self.config(open(self.cfg).read().replace(
            "[Radarr-Movies]\n", "[Radarr-Movies]\nVerifyImport = true\n", 1))
        spec = self.seeded_torrent("Always.Fails.2017")
        self.radarr.set_fault("POST", "/command", "500")
        t0 = int(time.time())
        for dt in (0, 61, 200, 500):                    # every retry after its backoff
            self.sweep(now=t0 + dt, check=1)
        self.assertEqual(self.rows()[0]["import_attempts"], 4)
        failed = self.audit("action = 'import' AND result = 'failed'")
        self.assertEqual(len(failed), 1, failed)
        self.assertEqual(self.audit("result = 'intended'"), [])
        # It works; then the Arr forgets the command (finished a day ago).
        self.radarr.clear_faults()
        self.sweep(now=t0 + 1000, check=0)
        self.assertEqual(self.rows()[0]["import_result"], "queued")
        self.db_exec("UPDATE torrents SET import_command_id = 999")
        r = self.sweep("--json", now=t0 + 1060, check=1)
        self.assertEqual([(x["action"], x["result"]) for x in r.json()["actions"]],
                         [("verify_import", "done")])
        self.assertEqual(self.rows()[0]["import_result"], "forgotten")
        self.assertIn("no longer known (the Arr drops finished commands after about "
                      "a day): the import is sent again in 60 s", r.stderr)
        # Verification ends; what the Arr did is unknown: the normal import
        # retry follows, once, after its backoff (issue 11).
        scans = len(self.scans())
        r = self.sweep("--json", now=t0 + 1090, check=0)
        self.assertEqual(r.json()["actions"], [])
        r = self.sweep("--json", now=t0 + 1125, check=0)
        self.assertEqual([x["action"] for x in r.json()["actions"]], ["import"])
        self.assertEqual(len(self.scans()), scans + 1)
        gets = [c for c in self.radarr.calls() if c["method"] == "GET"
                and c["path"].endswith("/command/999")]
        self.assertEqual(len(gets), 1)


class NewFileTest(Base):

    def test_deleted_state_file_warns_and_adopts_long_completed_torrents(self):
        a = self.setup_one(seeding="")
        old = self.seeded_torrent("Long.Done.2016")
        completed = a.torrent(old.hash)["completion_on"]
        now = completed + 2 * 86400
        self.sweep(check=0)                             # an earlier run (imported)
        self.assertEqual(len(self.scans()), 1)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.state + suffix):
                os.unlink(self.state + suffix)
        r = self.sweep("--json", "-v", now=now + 60, check=0)
        self.assertIn("the state file is missing but its lock file", r.stderr)
        self.assertIn("1 torrent(s) completed more than 24 h ago taken as imported "
                      "already", r.stderr)
        self.assertEqual([x for x in r.json()["actions"] if x["action"] == "import"], [])
        self.assertEqual(len(self.scans()), 1)
        self.assertEqual(self.rows()[0]["import_result"], "adopted")
        r = self.sweep("explain", old.hash[:8], now=now + 120, check=0)
        self.assertIn("import: sent already (adopted)", r.stdout)
        # (A torrent completed less than 24 h ago is imported on a new file as
        # ever: every other test's first sweep shows it.)


class RetentionTest(Base):

    def test_old_gone_rows_and_audit_rows_are_removed_and_the_file_vacuums(self):
        a = self.setup_one(settings="HistoryDays = 2\nGoneRowDays = 1", seeding="")
        spec = self.seeded_torrent("Leaves.Soon.2015")
        keep = self.seeded_torrent("Stays.2015")
        t0 = int(time.time())
        self.sweep(now=t0, check=0)                     # two imports in the audit
        a.post("torrents/delete", {"hashes": spec.hash, "deleteFiles": "false"})
        H.wait_until(lambda: a.torrent(spec.hash) is None)
        self.sweep(now=t0 + 60, check=0)
        self.assertIsNotNone(self.rows("hash = ?", (spec.hash,))[0]["gone_at"])
        self.sweep(now=t0 + 86400 + 30, check=0)       # gone 1 day minus 30 s: kept
        self.assertEqual(len(self.rows()), 2)
        self.sweep(now=t0 + 86400 + 120, check=0)
        self.assertEqual([r["hash"] for r in self.rows()], [keep.hash])
        self.assertEqual(len(self.audit("action = 'import'")), 2)
        self.sweep(now=t0 + 2 * 86400 + 60, check=0)   # the imports are 2 days old
        self.assertEqual(self.audit("action = 'import'"), [])
        self.assertEqual([r["hash"] for r in self.rows()], [keep.hash])
        db = sqlite3.connect(self.state)
        self.assertEqual(db.execute("PRAGMA auto_vacuum").fetchone()[0], 2)
        db.close()


class KillTest(Base):
    """Killed at random points of many runs: history shows every action that
    reached a server, no import is sent twice, no deletion is forgotten."""

    ROUNDS = 8

    def test_random_kills_over_many_runs(self):
        import random
        a = self.setup_one()
        rnd = random.Random(int(os.environ.get("QBITRR_KILL_SEED", "17")))
        made, killed = [], 0
        for rnd_i in range(self.ROUNDS):
            # The torrents of earlier rounds have seeded long enough by now.
            if made:
                self.db_exec("UPDATE torrents SET seeding_since = ? WHERE gone_at IS NULL",
                             (int(time.time()) - 7200,))
            for k in range(2):
                made.append(self.seeded_torrent("Round.%d.%d" % (rnd_i, k)))
            n = rnd.randint(1, 8)
            r = self.sweep(env={"QBITRR_TEST_KILL_AT": "any:%d" % n})
            killed += r.rc == -9
            self.assertIn(r.rc, (0, 1, -9), r)
            self.sweep(check=0)
            self.check_invariants(made, "round %d (killed at point %d: %s)"
                                  % (rnd_i, n, r.rc == -9))
        self.assertGreaterEqual(killed, self.ROUNDS // 2, "too few runs were killed")

    def check_invariants(self, made, where):
        db = sqlite3.connect(self.state)
        self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok", where)
        db.close()
        scans = {}
        for c in self.radarr.calls():
            if c["method"] == "POST" and c["body"] and c["body"].get("name") == "DownloadedMoviesScan":
                h = c["body"]["downloadClientId"].lower()
                scans[h] = scans.get(h, 0) + 1
        audit = self.audit()
        self.assertEqual([x for x in audit if x["result"] == "intended"], [], where)
        imports = {x["hash"] for x in audit if x["action"] == "import"}
        deletes = {x["hash"] for x in audit if x["action"] == "delete"
                   and x["result"] in ("done", "interrupted")}
        for h, count in scans.items():
            self.assertEqual(count, 1, "%s: %s scanned %d times" % (where, h, count))
            self.assertIn(h, imports, "%s: scan of %s not in history" % (where, h))
        for spec in made:
            if self.a.torrent(spec.hash) is None:
                self.assertIn(spec.hash, deletes, "%s: deletion of %s not in history"
                              % (where, spec.name))
