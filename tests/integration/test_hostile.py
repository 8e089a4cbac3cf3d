"""Issue 13: a hostile or broken server, a shared folder and a slow hook
cannot hurt the host or the other instances."""
import os
import sqlite3
import time

import harness as H
from common import Env, instance_section, arr_section, file_bytes

SEEDING = ("stalledUP", "uploading")
SECRET = b"root-only secret\n"


class SharedFolderTest(Env):
    """Someone who can write the folders the tool writes to plants links."""

    n_instances = 1

    def victim(self, name="victim"):
        """A root-only file outside the shared folder the links point at."""
        d = os.path.join(self.tmp, "private")
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, name)
        with open(p, "wb") as f:
            f.write(SECRET)
        os.chmod(p, 0o600)
        return p

    def setup(self, settings=""):
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\n%s\n\n" % settings
                    + instance_section("qBit", self.qbt[0])
                    + arr_section("Radarr-Movies", "radarr"))

    def test_symlinked_lock_file_is_refused_not_written_through(self):
        self.setup()
        v = self.victim()
        os.symlink(v, self.state + ".lock")
        r = self.sweep()
        self.assertEqual(r.rc, 74, r)
        self.assertIn(self.state + ".lock", r.stderr)
        self.assertIn("symbolic link", r.stderr)
        self.assertEqual(file_bytes(v), SECRET)
        self.assertFalse(os.path.exists(self.state), "state created after a refused lock")
        # A hard link to the file is refused the same way.
        os.unlink(self.state + ".lock")
        os.link(v, self.state + ".lock")
        r = self.sweep()
        self.assertEqual(r.rc, 74, r)
        self.assertIn("hard links", r.stderr)
        self.assertEqual(file_bytes(v), SECRET)

    def test_symlinked_state_file_is_refused_with_74(self):
        self.setup()
        # dangling: the target must not be created
        target = os.path.join(self.tmp, "private", "created-by-root.db")
        os.makedirs(os.path.dirname(target))
        os.symlink(target, self.state)
        for args in ((), ("--dry-run",), ("status",)):
            r = self.sweep(*args)
            self.assertEqual(r.rc, 74, r)
            self.assertIn(self.state, r.stderr)
            self.assertIn("symbolic link", r.stderr)
            self.assertFalse(os.path.exists(target), "file created through the link")
        # to an existing file: never written through
        os.unlink(self.state)
        v = self.victim()
        os.symlink(v, self.state)
        r = self.sweep()
        self.assertEqual(r.rc, 74, r)
        self.assertEqual(file_bytes(v), SECRET)
        # a link at SQLite's journal name is refused too
        os.unlink(self.state)
        os.symlink(v, self.state + "-wal")
        r = self.sweep()
        self.assertEqual(r.rc, 74, r)
        self.assertIn(self.state + "-wal", r.stderr)
        self.assertEqual(file_bytes(v), SECRET)

    def test_status_page_and_metrics_temp_names_are_not_followed(self):
        page = os.path.join(self.tmp, "www", "status.html")
        prom = os.path.join(self.tmp, "textfile", "qbitrr.prom")
        os.makedirs(os.path.dirname(page))
        os.makedirs(os.path.dirname(prom))
        self.setup("StatusPage = %s\nMetricsFile = %s" % (page, prom))
        v = self.victim()
        # The old temp names were NAME.tmp.<pid>: plant links for the next pids.
        with open("/proc/sys/kernel/ns_last_pid") as f:
            last = int(f.read())
        planted = []
        for pid in range(last + 1, last + 400):
            for base in (page, prom):
                p = "%s.tmp.%d" % (base, pid)
                os.symlink(v, p)
                planted.append(p)
        self.sweep(check=0)
        self.assertEqual(file_bytes(v), SECRET)
        self.assertIn(b"<html", file_bytes(page))
        self.assertIn(b"qbitrr_instance_up", file_bytes(prom))
        for p in planted:
            self.assertTrue(os.path.islink(p), p)
        # no temporary file is left behind
        self.assertEqual(sorted(os.listdir(os.path.dirname(page))),
                         sorted(["status.html"] + [os.path.basename(p) for p in planted
                                                   if p.startswith(page)]))
        # A link at the page itself is an error naming it; never written through.
        os.unlink(page)
        os.symlink(v, page)
        os.unlink(prom)
        os.symlink(v, prom)
        r = self.sweep()
        self.assertEqual(r.rc, 0, r)
        self.assertIn(page + ": is a symbolic link", r.stderr)
        self.assertIn(prom + ": is a symbolic link", r.stderr)
        self.assertIn("warning: StatusPage", r.stderr)
        self.assertEqual(file_bytes(v), SECRET)
        self.assertTrue(os.path.islink(page))

    def test_migration_backup_is_not_written_through_a_link(self):
        self.setup()
        db = sqlite3.connect(self.state)
        db.execute("CREATE TABLE torrents (hash TEXT PRIMARY KEY, category TEXT, arr TEXT,"
                   " first_seen INTEGER, last_seen INTEGER, imported_at INTEGER,"
                   " stalled_since INTEGER)")
        db.execute("INSERT INTO torrents VALUES ('ab', 'radarr', 'Radarr-Movies', 1, 2, NULL, NULL)")
        db.execute("PRAGMA user_version = 1")
        db.commit()
        db.close()
        v1 = file_bytes(self.state)
        v = self.victim()
        bak = self.state + ".v1.bak"
        os.symlink(v, bak)
        r = self.sweep()
        self.assertEqual(r.rc, 74, r)
        self.assertIn(bak, r.stderr)
        self.assertIn("symbolic link", r.stderr)
        self.assertEqual(file_bytes(v), SECRET)
        self.assertEqual(file_bytes(self.state), v1, "migrated without a backup")
        # Once the link is gone the backup is made (by us, with a fresh name) and the
        # file migrated.
        os.unlink(bak)
        r = self.sweep(check=0)
        self.assertFalse(os.path.islink(bak))
        db = sqlite3.connect(bak)
        self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 1)
        self.assertEqual(db.execute("SELECT hash FROM torrents").fetchall(), [("ab",)])
        db.close()
        self.assertEqual([n for n in os.listdir(self.tmp) if ".tmp." in n], [])
