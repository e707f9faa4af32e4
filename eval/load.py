"""`make load`: a bounded load test of the HTTP API on loopback (`python -m eval.load --help`).

Starts `reperes serve` on a free loopback port with its own REPERES_HOME (linking the real model and
index, so nothing is rebuilt and no user's feedback is touched), waits for /api/health, then runs the
phases: simulated users each ask the development set's questions through POST /api/ask, one after the
other with a counsellor's pause between them (``DEFAULT_THINK``), for the phase's duration. A user told 503 (load shed) waits the Retry-After it was given, as a
well-behaved client would. Printed per phase: requests, throughput, latency percentiles of the
answers, errors by status (503 apart), the slowest /api/health seen during the phase, and the server's
RSS before and after (and its peak). A dev tool: timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from assistant.settings import REPO_ROOT, Settings

DEFAULT_PHASES = ((50, 60.0), (200, 30.0))
# A user is a counsellor: they type a question and read the answer before the next, so each waits a pause drawn
# between 0 and twice this mean (5 s is a fast counsellor; in the chat a question is a minute's work). At that
# pace 50 users ask about 10 questions a second, within a 2-core server's reach (about 16), and 200 ask 40,
# past it: the phase where load is shed. `--think 0` sends each user's questions back to back (a stress test:
# every user is then always waiting, and latency is the queue's length over the throughput).
DEFAULT_THINK = 5.0
QUICK_PHASE = (10, 10.0)


@dataclass
class Phase:
    users: int
    seconds: float
    think: float = 0.0  # mean pause between a user's questions, seconds
    latencies: list[float] = field(default_factory=list)  # seconds, answers (200) only
    statuses: Counter[str] = field(default_factory=Counter)  # "200", "503", "timeout", …
    health_max: float = 0.0
    elapsed: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


def questions(path: Path) -> list[str]:
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [item["question"] for item in items if isinstance(item.get("question"), str)]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def rss(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in MB (empty when /proc cannot tell)."""
    values: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                values[key] = int(rest.split()[0]) // 1024
    except OSError:
        pass
    return values


async def _user(
    client: httpx.AsyncClient, pool: list[str], phase: Phase, deadline: float, rng: random.Random, think: float
) -> None:
    while time.monotonic() < deadline:
        if think:  # a counsellor types a question and reads its answer (0: back to back, a stress test)
            pause = rng.uniform(0, 2 * think)
            if time.monotonic() + pause >= deadline:
                break
            await asyncio.sleep(pause)
        question = rng.choice(pool)
        start = time.monotonic()
        try:
            response = await client.post("/api/ask", json={"question": question})
        except httpx.TimeoutException:
            phase.statuses["timeout"] += 1
            continue
        except httpx.TransportError as exc:
            phase.statuses[type(exc).__name__] += 1
            await asyncio.sleep(0.5)  # a refused connection would otherwise spin
            continue
        phase.statuses[str(response.status_code)] += 1
        if response.status_code == 200:
            phase.latencies.append(time.monotonic() - start)
        elif response.status_code in (429, 503):
            wait = float(response.headers.get("retry-after", "1") or 1)
            await asyncio.sleep(min(wait, max(0.0, deadline - time.monotonic())))


def _watch_health(url: str, phase: Phase, deadline: float) -> None:
    """The service must keep answering its health check under load (a proxy or orchestrator polls it).

    In a thread of its own with a blocking client: measured from the simulated users' event loop, the wait
    would include that loop's own backlog (200 users parsing answers on the same two cores)."""
    with httpx.Client(base_url=url, timeout=60) as client:
        while time.monotonic() < deadline:
            start = time.monotonic()
            with contextlib.suppress(httpx.HTTPError):  # a failed check still counts its wait
                client.get("/api/health")
            phase.health_max = max(phase.health_max, time.monotonic() - start)
            time.sleep(1.0)


async def run_phase(url: str, headers: dict[str, str], pool: list[str], phase: Phase, seed: int, think: float = 0.0) -> None:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120, limits=limits) as client:
        start = time.monotonic()
        deadline = start + phase.seconds
        rngs = [random.Random(seed * 1000 + n) for n in range(phase.users)]
        watcher = threading.Thread(target=_watch_health, args=(url, phase, deadline), daemon=True)
        watcher.start()
        await asyncio.gather(*(_user(client, pool, phase, deadline, rng, think) for rng in rngs))
        watcher.join()
        phase.elapsed = time.monotonic() - start  # requests running at the deadline are waited for


def report(phase: Phase, before: dict[str, int], after: dict[str, int]) -> str:
    ok = phase.statuses.get("200", 0)
    shed, limited = phase.statuses.get("503", 0), phase.statuses.get("429", 0)
    errors = {k: v for k, v in sorted(phase.statuses.items()) if k not in {"200", "503", "429"}}
    lat = phase.latencies
    return "\n".join(
        [
            f"== {phase.users} utilisateurs, {phase.seconds:.0f} s (durée réelle {phase.elapsed:.1f} s), "
            f"pause moyenne {phase.think:g} s",
            f"   requêtes {phase.requests}  réponses {ok}  débit {ok / phase.elapsed if phase.elapsed else 0:.1f} réponses/s",
            f"   latence des réponses : p50 {percentile(lat, 50):.2f} s  p95 {percentile(lat, 95):.2f} s  "
            f"p99 {percentile(lat, 99):.2f} s  max {max(lat, default=0):.2f} s",
            f"   délestées (503 + Retry-After) : {shed}  limitées par client (429) : {limited}",
            f"   erreurs : {sum(errors.values())} {errors if errors else ''}".rstrip(),
            f"   /api/health le plus lent : {phase.health_max:.2f} s",
            f"   RSS du serveur : {before.get('VmRSS', '?')} Mo avant, {after.get('VmRSS', '?')} Mo après "
            f"(pic {after.get('VmHWM', '?')} Mo)",
        ]
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(home: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`reperes serve` on a free loopback port, its home linking the real model and index."""
    real = Settings.from_env().home
    for name in ("models", "indexes"):
        (real / name).mkdir(parents=True, exist_ok=True)
        (home / name).symlink_to(real / name)
    env = {**os.environ, "REPERES_HOME": str(home), "GRADIO_ANALYTICS_ENABLED": "False"}
    for name in ("REPERES_API_TOKEN", "REPERES_CORS_ORIGINS", "REPERES_LLM"):
        env.pop(name, None)  # the composed answerer, no token: what is measured is the answering
    # The simulated users all come from 127.0.0.1, where real counsellors each have their own address and
    # their own per-client budget: that limit would turn the test into one client's, so it is off here.
    env["REPERES_RATE_LIMIT_PER_MINUTE"] = "0"
    port = _free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600  # converts the model or builds the index if `make` did not
    while True:
        if process.poll() is not None:
            raise SystemExit(f"reperes serve s'est arrêté :\n{log.read_text(errors='replace')[-2000:]}")
        if time.monotonic() > deadline:
            process.terminate()
            raise SystemExit("reperes serve n'a pas démarré en 600 s")
        try:
            if httpx.get(url + "/api/health", timeout=5).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.load", description="Test de charge de l'API sur la boucle locale.")
    parser.add_argument("--users", type=int, help="utilisateurs simultanés (une seule phase)")
    parser.add_argument("--seconds", type=float, help="durée de la phase, en secondes (une seule phase)")
    parser.add_argument(
        "--quick", action="store_true", help=f"essai rapide : {QUICK_PHASE[0]} utilisateurs, {QUICK_PHASE[1]:.0f} s"
    )
    parser.add_argument("--set", type=Path, default=REPO_ROOT / "eval" / "data" / "dev.jsonl", help="questions posées")
    parser.add_argument("--url", help="serveur déjà lancé (sinon `reperes serve` est démarré pour le test)")
    parser.add_argument(
        "--think",
        type=float,
        default=DEFAULT_THINK,
        help=f"pause moyenne entre deux questions d'un utilisateur, en secondes (défaut {DEFAULT_THINK:g} ; 0 : sans pause)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        phases = [QUICK_PHASE]
    elif args.users or args.seconds:
        phases = [(args.users or DEFAULT_PHASES[0][0], args.seconds or DEFAULT_PHASES[0][1])]
    else:
        phases = list(DEFAULT_PHASES)
    pool = questions(args.set)
    headers = (
        {"Authorization": f"Bearer {os.environ['REPERES_API_TOKEN']}"} if args.url and os.environ.get("REPERES_API_TOKEN") else {}
    )
    with tempfile.TemporaryDirectory(prefix="reperes-load-") as tmp:
        process: subprocess.Popen[bytes] | None = None
        url = args.url
        if url is None:
            started = time.monotonic()
            process, url = start_server(Path(tmp), Path(tmp) / "serve.log")
            print(f"Serveur prêt en {time.monotonic() - started:.1f} s : {url} (pid {process.pid})", flush=True)
        pid = process.pid if process else None
        try:
            for n, (users, seconds) in enumerate(phases):
                before = rss(pid) if pid else {}
                phase = Phase(users, seconds, args.think)
                asyncio.run(run_phase(url, headers, pool, phase, seed=args.seed + n, think=args.think))
                print(report(phase, before, rss(pid) if pid else {}), flush=True)
                if process is not None and process.poll() is not None:
                    print("Le serveur s'est arrêté pendant le test.", file=sys.stderr)
                    return 1
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
