#!/usr/bin/env python3
"""Integration test runner for qbitrr-sweep.

    python3 tests/integration/run.py [-k PATTERN] [-x] [--timeout S] [files...]

Discovers tests/integration/test_*.py (or runs the given files / module
names), loads their unittest TestCase classes and prints one TAP-like line
per test:

    ok 1 - test_harness.ClusterTest.test_login (0.4s)
    not ok 2 - test_x.Foo.test_bar (1.2s)
    # Traceback ...
    ok 3 - test_x.Foo.test_baz # SKIP reason

then "N passed, N failed[, N skipped]".  Exit status 1 if anything failed.

-k PATTERN   run only tests whose id (module.Class.test) matches PATTERN:
             a substring, or an fnmatch pattern when it contains * ? [.
             Repeatable (any match selects).
--timeout S  per-test limit (default $QBITRR_TEST_TIMEOUT or 300 s); a test
             running longer fails with a TimeoutError.
-x           stop after the first failure.
"""

import argparse
import fnmatch
import glob
import importlib
import importlib.util
import os
import signal
import sys
import time
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class TestTimeout(Exception):
    pass


def _iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _iter_tests(t)
        else:
            yield t


def _matches(test_id, patterns):
    if not patterns:
        return True
    for p in patterns:
        if any(c in p for c in "*?["):
            if fnmatch.fnmatchcase(test_id, p) or \
                    fnmatch.fnmatchcase(test_id, "*" + p + "*"):
                return True
        elif p in test_id:
            return True
    return False


def _filter(suite, patterns):
    """Return a suite with the same class/module structure (so setUpClass /
    setUpModule fixtures still work) keeping only matching tests."""
    out = unittest.TestSuite()
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            sub = _filter(t, patterns)
            if sub.countTestCases():
                out.addTest(sub)
        elif _matches(_short_id(t), patterns) or \
                type(t).__name__ in ("ModuleImportFailure", "_FailedTest"):
            out.addTest(t)
    return out


def _short_id(test):
    return test.id()


def _load_module(path_or_name):
    if path_or_name.endswith(".py") or os.sep in path_or_name:
        path = os.path.abspath(path_or_name)
        name = os.path.splitext(os.path.basename(path))[0]
        d = os.path.dirname(path)
        if d not in sys.path:
            sys.path.insert(0, d)
        if name in sys.modules and \
                os.path.abspath(getattr(sys.modules[name], "__file__", "")) == path:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        return mod
    return importlib.import_module(path_or_name)


class TapResult(unittest.TestResult):
    def __init__(self, stream, failfast=False):
        super().__init__()
        self.stream = stream
        self.failfast = failfast
        self.n = 0
        self.passed = 0
        self.failed_count = 0
        self.skipped_count = 0
        self._t0 = {}

    def _name(self, test):
        if isinstance(test, unittest.TestCase):
            return test.id()
        # _ErrorHolder for setUpClass/setUpModule errors
        return getattr(test, "description", str(test))

    def _elapsed(self, test):
        t0 = self._t0.pop(id(test), None)
        return 0.0 if t0 is None else time.monotonic() - t0

    def _line(self, s):
        self.stream.write(s + "\n")
        self.stream.flush()

    def startTest(self, test):
        super().startTest(test)
        self._t0[id(test)] = time.monotonic()

    def addSuccess(self, test):
        super().addSuccess(test)
        self.n += 1
        self.passed += 1
        self._line("ok %d - %s (%.1fs)" % (self.n, self._name(test),
                                           self._elapsed(test)))

    def _fail(self, test, err, kind):
        self.n += 1
        self.failed_count += 1
        self._line("not ok %d - %s (%.1fs)" % (
            self.n, self._name(test), self._elapsed(test)))
        if isinstance(err, str):
            text = err
        elif isinstance(test, unittest.TestCase):
            text = self._exc_info_to_string(err, test)   # drops unittest frames
        else:
            text = "".join(traceback.format_exception(*err))
        for ln in text.rstrip("\n").splitlines():
            self._line("# " + ln)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, err, "FAIL")

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test, err, "ERROR")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.n += 1
            self.failed_count += 1
            self._line("not ok %d - %s" % (self.n, subtest.id()))
            for ln in self._exc_info_to_string(err, test).rstrip(
                    "\n").splitlines():
                self._line("# " + ln)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.n += 1
        self.skipped_count += 1
        self._elapsed(test)
        self._line("ok %d - %s # SKIP %s" % (self.n, self._name(test), reason))

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.n += 1
        self.passed += 1
        self._line("ok %d - %s (%.1fs) # TODO expected failure" % (
            self.n, self._name(test), self._elapsed(test)))

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.n += 1
        self.failed_count += 1
        self._line("not ok %d - %s (%.1fs) # unexpected success" % (
            self.n, self._name(test), self._elapsed(test)))


def _install_timeouts(suite, seconds):
    if not seconds or not hasattr(signal, "SIGALRM"):
        return

    def on_alarm(signum, frame):
        raise TestTimeout("test exceeded the %ss time limit" % seconds)

    signal.signal(signal.SIGALRM, on_alarm)
    for t in _iter_tests(suite):
        if not isinstance(t, unittest.TestCase):
            continue
        orig = t.run

        def run(result=None, _orig=orig):
            signal.alarm(int(seconds))
            try:
                return _orig(result)
            finally:
                signal.alarm(0)
        t.run = run


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="qbitrr-sweep integration test runner")
    ap.add_argument("-k", dest="patterns", action="append", default=[],
                    help="only run tests whose id matches (substring/fnmatch)")
    ap.add_argument("-x", "--failfast", action="store_true")
    ap.add_argument("--timeout", type=float,
                    default=float(os.environ.get("QBITRR_TEST_TIMEOUT", 300)))
    ap.add_argument("files", nargs="*")
    a = ap.parse_args(argv)

    # SIGTERM/SIGHUP: abort the run like ^C (unittest lets KeyboardInterrupt
    # through), then leave normally so atexit stops every child process.
    caught = []

    def on_term(signum, frame):
        caught.append(signum)
        raise KeyboardInterrupt("signal %d" % signum)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_term)

    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    files = a.files or sorted(glob.glob(os.path.join(HERE, "test_*.py")))
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    load_errors = []
    for f in files:
        try:
            mod = _load_module(f)
        except Exception:
            load_errors.append((f, traceback.format_exc()))
            continue
        suite.addTest(loader.loadTestsFromModule(mod))
    suite = _filter(suite, a.patterns)

    out = sys.stdout
    out.write("# %d test(s) from %d file(s)\n" % (suite.countTestCases(),
                                                   len(files)))
    out.flush()
    result = TapResult(out, failfast=a.failfast)
    for f, tb in load_errors:
        result.n += 1
        result.failed_count += 1
        result._line("not ok %d - %s (import)" % (result.n, f))
        for ln in tb.rstrip("\n").splitlines():
            result._line("# " + ln)
    _install_timeouts(suite, a.timeout)
    t0 = time.monotonic()
    try:
        suite.run(result)
    except KeyboardInterrupt:
        signal.alarm(0)
        result._line("# interrupted" + (" by signal %d" % caught[0]
                                         if caught else ""))
        result.failed_count += 1
    summary = "%d passed, %d failed" % (result.passed, result.failed_count)
    if result.skipped_count:
        summary += ", %d skipped" % result.skipped_count
    out.write("# total time %.1fs\n" % (time.monotonic() - t0))
    out.write(summary + "\n")
    out.flush()
    if caught:
        return 128 + caught[0]
    return 1 if result.failed_count else 0


if __name__ == "__main__":
    sys.exit(main())
