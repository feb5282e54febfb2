"""The API create path of two versions of the code, measured side by side:

    python -m bench.side_by_side --before <git revision> [--kinds contacts leads]
        [--requests 2000] [--postgres URL URL2]

On a shared virtual machine the speed of the same command moves by up to 2× within
minutes, so two runs one after the other compare the minutes as much as the code. Here
the revision is checked out beside this tree (a git worktree), both versions serve at
once, each against its own fresh database (two SQLite files, or the two PostgreSQL
databases given, whose names must contain 'bench'), and every client connection sends
its creates to the two in turn. Each server's CPU time per request is then read over the
same minutes: the machine's speed touches both alike."""

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from bench.http import _free_port, _wait_until_listening
from bench.seed import contact_data, lead_data

HERE = Path(__file__).resolve().parent.parent
CONNECTIONS = 8
WARMUP = 400
KINDS: dict[str, tuple[str, Callable[[int], dict]]] = {
    "contacts": ("/api/v1/contacts", contact_data),
    "leads": ("/api/v1/leads", lead_data),
}
# Run in each tree with its own code: a fresh database, a rep and their token.
_SEED = """
import json, sys
from bench.env import SQLITE, fresh_database, postgres_target
from bench.seed import seed_people
url = sys.argv[1]
fresh_database(SQLITE if url.startswith("sqlite") else postgres_target(url), "side", url=url)
print(json.dumps(seed_people(teams=1, reps_per_team=1).reps[0].token))
"""


class Version:
    """One tree of the code serving its own database."""

    def __init__(self, name: str, tree: Path, url: str) -> None:
        self.name, self.tree, self.url = name, tree, url
        self.env = dict(os.environ, PYTHONPATH=f"{tree / 'src'}:{tree}", PIPEWISE_DATABASE_URL=url,
                        PIPEWISE_INPROCESS_WORKER="false")  # fmt: skip
        self.token = ""
        self.port = 0
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        seeded = subprocess.run([sys.executable, "-c", _SEED, self.url], env=self.env, cwd=self.tree, check=True,
                                capture_output=True, text=True)  # fmt: skip
        self.token = json.loads(seeded.stdout.strip().splitlines()[-1])
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "pipewise.app:create_app", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning", "--no-access-log", "--no-proxy-headers"],
            env=self.env, cwd=self.tree,
        )  # fmt: skip
        _wait_until_listening(self.port, self.process)

    def cpu_seconds(self) -> float:
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


def _alternate(versions: list[Version], path: str, body: Callable[[int], dict], count: int) -> dict[str, float]:
    """``count`` creates on each version, every connection taking them in turn (the order
    swapped on every other request); the server CPU milliseconds per request of each."""
    import http.client

    numbers = itertools.count()

    def client(share: int) -> None:
        connections = {v.name: http.client.HTTPConnection("127.0.0.1", v.port) for v in versions}
        for _ in range(share):
            n = next(numbers)
            for version in versions if n % 2 else reversed(versions):
                connections[version.name].request("POST", path, body=json.dumps(body(n)), headers={
                    "Authorization": f"Bearer {version.token}", "Content-Type": "application/json"})  # fmt: skip
                response = connections[version.name].getresponse()
                response.read()
                if response.status != 201:
                    raise SystemExit(f"{version.name}: POST {path} answered {response.status}")

    before = {v.name: v.cpu_seconds() for v in versions}
    threads = [threading.Thread(target=client, args=(count // CONNECTIONS,)) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = count // CONNECTIONS * CONNECTIONS
    return {v.name: (v.cpu_seconds() - before[v.name]) * 1000 / done for v in versions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the git revision to compare this tree with")
    parser.add_argument("--kinds", nargs="+", choices=list(KINDS), default=list(KINDS))
    parser.add_argument("--requests", type=int, default=2000, help="measured creates per version and kind")
    parser.add_argument("--postgres", nargs=2, metavar="URL", help="two PostgreSQL databases (before, after) instead of SQLite")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pipewise-side-by-side-"))
    tree = work / "before"
    subprocess.run(["git", "-C", str(HERE), "worktree", "add", "--detach", str(tree), args.before], check=True)
    try:
        for kind in args.kinds:
            path, body = KINDS[kind]
            urls = args.postgres or [f"sqlite:///{work / 'before.db'}", f"sqlite:///{work / 'after.db'}"]
            versions = [Version("before", tree, urls[0]), Version("after", HERE, urls[1])]
            try:
                for version in versions:
                    version.start()
                _alternate(versions, path, body, WARMUP)
                cpu = _alternate(versions, path, body, args.requests)
            finally:
                for version in versions:
                    version.stop()
            database = "PostgreSQL" if args.postgres else "SQLite"
            print(f"POST {path} on {database}: server CPU per request {cpu['before']:.2f} ms before ({args.before}), "
                  f"{cpu['after']:.2f} ms after, after ÷ before {cpu['after'] / cpu['before']:.2f}")  # fmt: skip
    finally:
        subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force", str(tree)], check=False)


if __name__ == "__main__":
    main()
