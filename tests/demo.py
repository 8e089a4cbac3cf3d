"""make demo: a real sweep of two throw-away qbittorrent-nox instances and a
demo Radarr on loopback, then the status table and what was done.  Nothing
outside a temporary folder is touched; everything started is stopped."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration"))
import harness as H  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.environ.get("QBITRR_SWEEP", os.path.join(ROOT, "build", "hooks", "qbitrr-sweep"))


def say(text):
    print("\n\033[1m== %s\033[0m" % text if sys.stdout.isatty() else "\n== %s" % text,
          flush=True)


def run(args, now=None):
    env = dict(os.environ)
    if now:
        env["QBITRR_TEST_NOW"] = str(now)
    print("$ qbitrr-sweep %s%s" % (" ".join(args),
          "   # pretending 20 minutes have passed" if now else ""), flush=True)
    import subprocess
    p = subprocess.run([BINARY] + args, env=env, text=True, capture_output=True)
    sys.stdout.write(p.stderr + p.stdout)
    print("(exit status %d)" % p.returncode, flush=True)
    return p


def main():
    tmp = H.TempDir().path
    data = os.path.join(tmp, "downloads")
    os.makedirs(data)
    say("starting two sandboxed qbittorrent-nox instances and a demo Radarr on 127.0.0.1")
    home = H.QbtInstance("home", os.path.join(tmp, "qbt-home"))
    seedbox = H.QbtInstance("seedbox", os.path.join(tmp, "qbt-seedbox"))
    home.start()
    seedbox.start()
    radarr = H.FakeArr("radarr", workdir=tmp)
    radarr.start()
    print("qBit          %s\nqBit-Seedbox  %s\nRadarr        %s" % (home.url, seedbox.url, radarr.url))

    say("adding torrents in different states")
    done = H.make_torrent(data, "Big.Buck.Bunny.2008", files={"bbb.mkv": 300000, "bbb.srt": 900})
    stalled = H.make_torrent(os.path.join(tmp, "nowhere"), "Sintel.2010.mkv", size=200000,
                             write_data=False)
    extras = H.make_torrent(os.path.join(tmp, "nowhere"), "Tears.of.Steel.2012", write_data=False,
                            files={"tos.mkv": 250000, "sample.mkv": 9000, "Extras/making-of.mkv": 50000})
    failed = H.make_torrent(data, "Elephants.Dream.2006.mkv", size=120000)
    home.add(done, category="radarr", skip_checking=True)
    seedbox.add(stalled, category="radarr")
    home.add(extras, category="radarr")
    seedbox.add(failed, category="radarr", skip_checking=True)
    radarr.set_queue([
        {"downloadId": stalled.hash_upper, "movieId": 2, "title": stalled.name},
        {"downloadId": failed.hash_upper, "movieId": 3, "title": failed.name},
        {"downloadId": extras.hash_upper, "movieId": 4, "title": extras.name}])
    home.wait_state(done.hash, ("stalledUP", "uploading"))
    seedbox.wait_state(stalled.hash, ("stalledDL",))
    seedbox.wait_state(failed.hash, ("stalledUP", "uploading"))
    print("Big.Buck.Bunny.2008    complete on qBit: to be imported")
    print("Tears.of.Steel.2012    downloading on qBit, with a sample and extras")
    print("Sintel.2010.mkv        no peers on qBit-Seedbox: stalled")
    print("Elephants.Dream.2006   on qBit-Seedbox: the user will mark it failed")

    cfg = H.write_config(tmp, """# demo configuration
[Settings]
ImportDelay = 0
IgnoreTorrentsYoungerThan = 0

[qBit]
Host = %s
UserName = %s
Password = %s

[qBit-Seedbox]
Host = %s
UserName = %s
Password = %s

[Radarr-Movies]
URI = %s
APIKey = %s
Category = radarr

[Radarr-Movies.Torrent]
StalledDelay = 15
""" % (home.url, home.username, home.password, seedbox.url, seedbox.username,
       seedbox.password, radarr.url, radarr.api_key))
    time.sleep(1.2)

    say("first sweep: categories, import, unwanted files; the stalled one starts its clock")
    run(["-c", cfg])
    seedbox.post("torrents/setCategory", {"hashes": failed.hash, "category": "failed"})
    print("\n(the user moves Elephants.Dream.2006 to the 'failed' category)")
    say("second sweep, 20 minutes later: stalled and failed torrents are blocklisted and removed")
    run(["-c", cfg], now=int(time.time()) + 20 * 60)

    say("status: every instance and every tracked torrent")
    run(["-c", cfg, "status"])
    say("history: what was done and why")
    run(["-c", cfg, "history"])
    say("what the demo Radarr was asked to do")
    for c in radarr.calls():
        if c["method"] != "GET":
            print("%-6s %s %s %s" % (c["method"], c["path"],
                  "&".join("%s=%s" % kv for kv in sorted(c["query"].items())),
                  c["body"] or ""))
    say("stopping everything the demo started")
    radarr.stop()
    home.stop()
    seedbox.stop()
    print("done; config and state were in %s (removed)" % tmp)


if __name__ == "__main__":
    main()
