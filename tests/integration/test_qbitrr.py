"""qBitrr users (issue 12): qBitrr's own config.toml, as each release
generates it, loads through the binary; keys mean what they mean to qBitrr."""
import glob
import os
import shutil

import harness as H

FIXTURES = os.path.join(H.REPO, "tests", "data", "qbitrr")


class QbitrrTemplatesTest(H.IntegrationTestCase):

    def test_every_qbitrr_template_passes_check_config(self):
        paths = sorted(glob.glob(os.path.join(FIXTURES, "*.toml")))
        # v3.3.0 .. v5.14.4, one per distinct template, plus the upgraded one.
        self.assertGreaterEqual(len(paths), 60)
        for p in paths:
            # A private copy: the committed file's mode would add a warning.
            copy = os.path.join(self.tmp, os.path.basename(p))
            shutil.copyfile(p, copy)
            os.chmod(copy, 0o600)
            r = H.run_tool(["-c", copy, "check-config"])
            self.assertEqual(r.rc, 0, "%s:\n%s" % (p, r.stderr))
            self.assertNotIn("error:", r.stderr, p)
            self.assertIn("[qBit]", r.stdout, p)
            self.assertIn("Category = ", r.stdout, p)
