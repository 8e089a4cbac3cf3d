"""Issue 5: valgrind reports no leaks or memory errors over a full sweep of
the test setup (the release code without sanitizers: build/hooks/qbitrr-sweep,
which is ./qbitrr-sweep plus the QBITRR_TEST_NOW clock)."""
import os
import shutil
import subprocess
import time
import unittest

import harness as H
from common import Env, instance_section, arr_section

SEEDING = ("stalledUP", "uploading")
RELEASE = os.path.join(H.REPO, "build", "hooks", "qbitrr-sweep")
VALGRIND = shutil.which("valgrind")
VALGRIND_ARGS = ["--leak-check=full", "--show-leak-kinds=definite,indirect",
                 "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
                 "--track-origins=no"]


@unittest.skipIf(VALGRIND is None, "valgrind is not installed (apt-get install valgrind)")
class ValgrindTest(Env):

    n_instances = 2

    def release(self, args, now, valgrind=True, timeout=60):
        if not (os.path.isfile(RELEASE) and os.access(RELEASE, os.X_OK)):
            raise AssertionError("test-hooks build %s missing: run 'make build/hooks/qbitrr-sweep'" % RELEASE)
        argv = ([VALGRIND] + VALGRIND_ARGS if valgrind else []) + \
            [RELEASE, "-c", self.cfg] + list(args)
        env = H._clean_env({"QBITRR_TEST_NOW": str(now)})
        t0 = time.monotonic()
        p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
        r = H.Result(args, p.returncode, p.stdout.decode("utf-8", "replace"),
                     p.stderr.decode("utf-8", "replace"), time.monotonic() - t0)
        if valgrind:
            self.assertNotEqual(r.rc, 99, "valgrind found errors in %s:\n%s"
                                % (" ".join(args), r.stderr[-8000:]))
            self.assertRegex(r.stderr, r"ERROR SUMMARY: 0 errors from 0 contexts",
                             r.stderr[-8000:])
            self.assertNotRegex(r.stderr, r"(definitely|indirectly) lost: [1-9]")
        return r

    def test_full_sweep_status_and_explain_are_clean(self):
        radarr = self.fake_arr("radarr")
        a, b = self.qbt
        common = ("[Settings]\nIgnoreTorrentsYoungerThan = 0\nImportDelay = 0\n\n"
                  + arr_section("Radarr-Movies", "radarr", radarr)
                  + "[Radarr-Movies.Torrent]\nStalledDelay = 15\n\n")
        stalled = self.torrent("Valgrind.Stalled.mkv", size=50000, write_data=False)
        a.add(stalled, category="radarr")
        done = self.torrent("Valgrind.Done", files={"m.mkv": 40000, "s.srt": 100})
        b.add(done, category="radarr", skip_checking=True)
        a.wait_state(stalled.hash, ("stalledDL",))
        b.wait_state(done.hash, SEEDING)
        radarr.set_queue([{"downloadId": stalled.hash_upper, "movieId": 21,
                           "title": stalled.name, "status": "downloading"}])
        t0 = int(time.time())
        # First run (plain), instance A only: starts the stalled clock.
        self.config(common + instance_section("qBit", a))
        r = self.release(["sweep"], t0, valgrind=False)
        self.assertEqual(r.rc, 0, r.stderr)

        # The measured run: both instances; B's categories are missing, its
        # torrent is due for import, A's torrent is due for removal.
        self.config(common + instance_section("qBit", a)
                    + instance_section("qBit-Seedbox", b))
        started = time.monotonic()
        r = self.release(["--json", "-vv", "sweep"], t0 + 16 * 60)
        self.assertEqual(r.rc, 0, r.stderr[-4000:])
        doc = r.json()
        acts = sorted((x["instance"], x["action"], x["result"]) for x in doc["actions"])
        for want in (("qBit", "blocklist", "done"), ("qBit", "delete", "done"),
                     ("qBit", "search", "done"), ("qBit-Seedbox", "import", "done"),
                     ("qBit-Seedbox", "create_category", "done")):
            self.assertIn(want, acts)
        H.wait_until(lambda: a.torrent(stalled.hash) is None, what="stalled deleted")

        r = self.release(["status"], t0 + 17 * 60)
        self.assertEqual(r.rc, 0, r.stderr[-4000:])
        self.assertIn("qBit-Seedbox", r.stdout)
        r = self.release(["explain", "Valgrind"], t0 + 17 * 60)
        self.assertEqual(r.rc, 0, r.stderr[-4000:])
        self.assertIn(done.hash, r.stdout)
        self.assertLess(time.monotonic() - started, 60)
