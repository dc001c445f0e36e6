#!/usr/bin/env python3
"""proxy_bench.py: sipring beside Kamailio, each as a UDP load balancer in front of two backends.

One command starts, for each proxy under test, two `sipload uas` backends, the proxy, and
`sipload uac` load (calls: INVITE, 100, 180, 200, ACK, BYE, 200, no hold), all on loopback, and
measures:

  - capacity: the highest call rate with under 0.1% failed calls (a doubling search, then a
    bisection; each step a fresh, bounded run), and the proxy's CPU per call at that rate;
  - at one common fixed rate: latency p50/p99 (the UAC paced finely) and CPU per call;
  - peak memory: VmHWM (per process, summed) and the largest sampled sum of PSS (shared memory
    counted once: Kamailio's workers share one segment);
  - an overload run at 3x that proxy's capacity: goodput (completed calls/s), 503s, failed calls,
    RSS at the end against the start;
  - the kernel's floor: the engine's UDP receive+send per message (udp_echo_bench) x the
    messages one call puts through a proxy, and each proxy's CPU per call as a multiple of it.

Proxy CPU is utime+stime from /proc/PID/stat of every process of the proxy (all threads; for
Kamailio the main process and all its children) over each run. The proxy is pinned to the first
`--shards` CPUs, the load and backends to the rest (when there are any).

Proxies: sipring stateless and stateful (`[balancer] mode`; a daemon that refuses the config is
reported "n/a: config refused"), Kamailio stateless (dispatcher alg 4 + forward()) and stateful
(t_relay()); configs under tools/bench/kamailio/. Kamailio runs with the TLSF allocator, shared
and private memory sized for the load, 4 MiB socket buffers and `children` = shards.

Prints the table, writes DIR/proxy_bench.json and DIR/proxy_bench.png (gnuplot: latency against
rate, goodput under overload). Everything is bounded: each load run stops by itself, the search
has a fixed number of steps, every process is killed at the end. --quick checks end to end in
well under a minute with tiny rates (CI).

  tools/bench/proxy_bench.py [--quick] [--shards 1] [--out DIR] [--build build/release]
                             [--proxies sipring-stateless,...] [--common-rate 2000]
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KAMAILIO_DIR = os.path.join(ROOT, "tools", "bench", "kamailio")
KAMAILIO_MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules/"
PROXIES = ["sipring-stateless", "sipring-stateful", "kamailio-stateless", "kamailio-stateful"]
# Messages one call puts through a proxy in each direction: INVITE, 100, 180, 200, ACK, BYE, 200
# (a stateful proxy sends its own 100 and absorbs the backend's: the same count).
MESSAGES_PER_CALL = 7
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


# ---- processes and /proc ----

def process_tree(root):
    """The pid and every descendant (Kamailio forks its workers)."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        stat = read(f"/proc/{name}/stat")
        if not stat:
            continue
        ppid = int(stat[stat.rfind(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        stat = read(f"/proc/{pid}/stat")
        if stat:
            fields = stat[stat.rfind(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / CLK_TCK


def status_kb(pids, key):
    total = 0
    for pid in pids:
        for line in read(f"/proc/{pid}/status").splitlines():
            if line.startswith(key + ":"):
                total += int(line.split()[1])
    return total


def pss_kb(pids):
    total = 0
    for pid in pids:
        for line in read(f"/proc/{pid}/smaps_rollup").splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
    return total


class MemorySampler:
    """Samples the proxy's summed PSS every 250 ms; keeps the largest."""

    def __init__(self, root):
        self.root, self.peak_kb, self._stop = root, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.25):
            self.peak_kb = max(self.peak_kb, pss_kb(process_tree(self.root)))

    def stop(self):
        self._stop.set()
        self._thread.join()


class Procs:
    """Every process the harness started; all are stopped at the end, whatever happens."""

    def __init__(self, workdir):
        self.workdir, self.procs = workdir, []

    def start(self, name, argv, cpus=None):
        if cpus and shutil.which("taskset"):
            argv = ["taskset", "-c", cpus] + argv
        out = open(os.path.join(self.workdir, name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        p.log_path = out.name
        self.procs.append(p)
        return p

    def stop(self, p, timeout=10):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def stop_all(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                p.wait()


def sip_ping(port, timeout_s):
    """True once something answers a SIP OPTIONS on 127.0.0.1:port."""
    end = time.monotonic() + timeout_s
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.2)
    n = 0
    while time.monotonic() < end:
        n += 1
        msg = (f"OPTIONS sip:ping@127.0.0.1:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{s.getsockname()[1]};branch=z9hG4bKping{n};rport\r\n"
               f"Max-Forwards: 70\r\nFrom: <sip:bench@127.0.0.1>;tag=b{n}\r\nTo: <sip:ping@127.0.0.1>\r\n"
               f"Call-ID: bench-ping-{n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
        try:
            s.sendto(msg.encode(), ("127.0.0.1", port))
            if s.recv(4096).startswith(b"SIP/2.0 "):
                s.close()
                return True
        except OSError:
            time.sleep(0.05)
    s.close()
    return False


# ---- the proxies ----

def sipring_config(mode, port, admin, backends, shards, transactions):
    return (f"[engine]\nshards = {shards}\npin_cpus = true\n"
            f"[[listen]]\naddress = \"127.0.0.1:{port}\"\nrcvbuf = 4194304\nsndbuf = 4194304\n"
            + "".join(f"[[backend]]\nuri = \"sip:127.0.0.1:{b}\"\nname = \"b{i}\"\n"
                      for i, b in enumerate(backends))
            + f"[balancer]\nmode = \"{mode}\"\nalgorithm = \"round-robin\"\nrecord_route = true\n"
            # A completed transaction keeps its entry for Timer J/K (64 x T1 = 32 s over UDP), so
            # the table must hold 32 s of calls: 262,144 entries carry about 8,000 calls/s a shard
            # (the default 32,768 only about 1,000).
            + (f"[transactions]\nmax_per_shard = {transactions}\n" if mode == "stateful" else "")
            + f"[admin]\naddress = \"127.0.0.1:{admin}\"\n[log]\nlevel = \"error\"\n")


def kamailio_files(workdir, mode, port, backends, shards):
    ds = os.path.join(workdir, "dispatcher.list")
    with open(ds, "w") as f:
        f.writelines(f"1 sip:127.0.0.1:{b}\n" for b in backends)
    subst = {"@CHILDREN@": str(shards), "@HOST@": "127.0.0.1", "@PORT@": str(port),
             "@MPATH@": KAMAILIO_MODULES, "@DISPATCHER_LIST@": ds,
             "@COMMON@": os.path.join(workdir, "common.inc")}
    for name in ("common.inc", mode + ".cfg"):
        text = read(os.path.join(KAMAILIO_DIR, name))
        for k, v in subst.items():
            text = text.replace(k, v)
        with open(os.path.join(workdir, name), "w") as f:
            f.write(text)
    return os.path.join(workdir, mode + ".cfg")


class ProxyUnavailable(Exception):
    """The proxy refused its config or did not start; the message says which."""


def start_proxy(name, args, procs, workdir, backends, proxy_cpus):
    """Starts the proxy; returns (process, port) or (None, reason)."""
    kind, mode = name.split("-")
    port = free_port()
    if kind == "sipring":
        sipring = os.path.join(args.build, "tools", "sipring", "sipring")
        cfg = os.path.join(workdir, name + ".toml")
        with open(cfg, "w") as f:
            f.write(sipring_config(mode, port, free_port(), backends, args.shards,
                                   4096 if args.quick else args.sipring_transactions))
        check = subprocess.run([sipring, "--check-config", cfg], capture_output=True, text=True)
        if check.returncode != 0:
            return None, "n/a: config refused (" + (check.stderr.strip().splitlines() or ["?"])[-1] + ")"
        p = procs.start(name, [sipring, "-c", cfg, "--run-seconds", "3600"])
    else:
        if not shutil.which("kamailio") or not os.path.isdir(KAMAILIO_MODULES):
            return None, "n/a: kamailio not installed"
        cfg = kamailio_files(workdir, mode, port, backends, args.shards)
        # -x/-X tlsf: the TLSF allocator for shared and private memory; -m/-M sized for the load
        # (the stateful table holds seconds of transactions); -b: 4 MiB socket buffers.
        shm = 64 if args.quick else (1024 if mode == "stateful" else 256)
        p = procs.start(name, ["kamailio", "-f", cfg, "-DD", "-E", "-x", "tlsf", "-X", "tlsf",
                               "-m", str(shm), "-M", "32", "-b", "4194304", "-Y", workdir,
                               "-w", workdir, "-P", os.path.join(workdir, "kamailio.pid")],
                        cpus=proxy_cpus)
    if not sip_ping(port, 10) or p.poll() is not None:
        procs.stop(p)
        return None, "n/a: did not start (see " + p.log_path + ")"
    time.sleep(0.3)  # sipring: let the health thread see the backends up
    return p, port


# ---- load ----

def run_load(args, procs, port, rate, seconds, pace_us, load_cpus, proxy_pid, tag):
    """One bounded sipload uac run; returns its report with the proxy's CPU and memory."""
    sipload = os.path.join(args.build, "tools", "sipload", "sipload")
    calls = max(1, int(rate * seconds))
    argv = [sipload, "uac", "--target", f"127.0.0.1:{port}", "--rate", str(rate), "--calls", str(calls),
            "--duration-s", str(seconds), "--timeout-ms", str(args.timeout_ms), "--pace-us", str(pace_us),
            "--sources", "8", "--source-ips", "127.0.0.1-127.0.0.4", "--threads", str(args.uac_threads),
            "--json", "--quiet"]
    if load_cpus and shutil.which("taskset"):
        argv = ["taskset", "-c", load_cpus] + argv
    pids = process_tree(proxy_pid)
    rss0 = status_kb(pids, "VmRSS")
    cpu0 = cpu_seconds(pids)
    sampler = MemorySampler(proxy_pid)
    t0 = time.monotonic()
    limit = seconds + 2 * args.timeout_ms / 1000 + 20
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=limit).stdout
    except subprocess.TimeoutExpired:
        out = ""
    wall = time.monotonic() - t0
    sampler.stop()
    pids = process_tree(proxy_pid)
    cpu = cpu_seconds(pids) - cpu0
    try:
        report = json.loads(out)
    except ValueError:
        log(f"  {tag}: sipload gave no report")
        report = {"total": {"attempts": 0, "successes": 0, "failures": 0, "failures_by_code": {},
                            "latency_us": {}, "achieved_rate": 0, "goodput": 0}}
    t = report["total"]
    ok = t["successes"]
    return {
        "rate": rate, "seconds": seconds, "attempts": t["attempts"], "successes": ok,
        "failures": t["failures"], "failure_ratio": t["failures"] / t["attempts"] if t["attempts"] else 1,
        "failures_by_code": t.get("failures_by_code", {}), "failures_by_reason": t.get("failures_by_reason", {}),
        "achieved_rate": t["achieved_rate"], "goodput": t["goodput"], "latency_us": t["latency_us"],
        "send_lag_us": t.get("send_lag_us", {}),
        "retransmissions": report.get("retransmissions", 0),
        "proxy_cpu_s": cpu, "proxy_cpu_us_per_call": 1e6 * cpu / ok if ok else None,
        "proxy_cores": cpu / wall if wall > 0 else 0,
        "rss_start_kb": rss0, "rss_end_kb": status_kb(pids, "VmRSS"), "pss_peak_kb": sampler.peak_kb,
    }


def describe(r):
    lat = r["latency_us"]
    return (f"{r['rate']:>7.0f}/s  ok {r['successes']:>7}  failed {r['failures']:>6} "
            f"({100 * r['failure_ratio']:.3f}%)  p50 {lat.get('p50', '-')}us p99 {lat.get('p99', '-')}us  "
            f"send lag p99 {r['send_lag_us'].get('p99', '-')}us  "
            f"proxy {r['proxy_cores']:.2f} cores, "
            + (f"{r['proxy_cpu_us_per_call']:.1f} us/call" if r["proxy_cpu_us_per_call"] else "-"))


def bench_proxy(name, args, workdir, cpus):
    procs = Procs(workdir)
    result = {"proxy": name}
    try:
        backends = [free_port(), free_port()]
        sipload = os.path.join(args.build, "tools", "sipload", "sipload")
        for i, b in enumerate(backends):
            procs.start(f"{name}-uas{i}", [sipload, "uas", "--listen", f"127.0.0.1:{b}", "--quiet",
                                           "--duration-s", "3600"], cpus=cpus["load"])
        for b in backends:
            if not sip_ping(b, 10):
                result["status"] = "n/a: backend did not start"
                return result
        # A fresh proxy for every run: what one run leaves behind (a stateful proxy keeps each
        # completed transaction for Timer J/K, 32 s over UDP) must not fail the next one.
        def run(rate, secs, pace, tag):
            proxy, port = start_proxy(name, args, procs, workdir, backends, cpus["proxy"])
            if proxy is None:
                raise ProxyUnavailable(port)
            try:
                r = run_load(args, procs, port, rate, secs, pace, cpus["load"], proxy.pid, tag)
                pids = process_tree(proxy.pid)
                r["vmhwm_kb"] = status_kb(pids, "VmHWM")
                r["processes"] = len(pids)
                return r
            finally:
                procs.stop(proxy)

        try:
            run(args.start_rate, 0.5, args.pace_us, "start")
        except ProxyUnavailable as e:
            result["status"] = str(e)
            return result
        result["status"] = "ok"
        good = lambda r: r["attempts"] > 0 and r["failure_ratio"] < 0.001
        # The load generator kept its schedule: otherwise the run measured the rig, not the proxy.
        delivered = lambda r: r["send_lag_us"].get("p99", 0) <= 1000 * args.max_lag_ms

        # Capacity: double from the start rate until a run fails, then bisect. A run the rig could
        # not deliver ends the search: the capacity is then a lower bound.
        runs, best, bad, rate, limit = [], None, None, args.start_rate, "search"
        while rate <= args.max_rate:
            r = run(rate, args.step_s, args.pace_us, "search")
            runs.append(r)
            log(f"  {name} search  " + describe(r))
            if not good(r):
                bad, limit = rate, None
                break
            if not delivered(r):
                limit = "rig"
                break
            best, rate = r, rate * 2
        for _ in range(args.bisect if bad else 0):
            lo = best["rate"] if best else 0
            mid = (lo + bad) / 2
            if bad - lo <= max(50, 0.05 * bad):
                break
            r = run(round(mid), args.step_s, args.pace_us, "bisect")
            runs.append(r)
            log(f"  {name} bisect  " + describe(r))
            if good(r) and delivered(r):
                best = r
            else:
                bad = round(mid)
        result["search"] = runs
        result["capacity"] = best["rate"] if best else 0
        # None: the proxy's own limit was found; "rig": the load generator and backends could not
        # go faster; "search": the search's top rate was reached.
        result["capacity_bound"] = limit
        result["at_capacity"] = best

        # Latency and CPU at the common rate, paced finely so the UAC's ticks add no queueing.
        r = run(args.common_rate, args.step_s, 100, "common")
        log(f"  {name} common  " + describe(r))
        result["common"] = r

        # Overload: three times this proxy's capacity (when that capacity is a lower bound the rig
        # cannot offer three times it either: the send lag says how much went out on time).
        over = 3 * (result["capacity"] or args.start_rate)
        r = run(over, args.overload_s, args.pace_us, "overload")
        r["delivered"] = delivered(r)
        log(f"  {name} 3x      " + describe(r))
        result["overload"] = r
        every = runs + [result["common"], r]
        result["vmhwm_kb"] = max(x["vmhwm_kb"] for x in every)
        result["pss_peak_kb"] = max(x["pss_peak_kb"] for x in every)
        result["processes"] = r["processes"]
        return result
    except ProxyUnavailable as e:
        result["status"] = str(e)
        return result
    finally:
        procs.stop_all()


# ---- the kernel's floor ----

def kernel_floor(args):
    """The engine's UDP receive+send cost per message (ns), from udp_echo_bench's median."""
    bench = os.path.join(args.build, "tools", "bench", "udp_echo_bench")
    if not os.path.exists(bench):
        return None
    secs, rounds = ("0.5", "1") if args.quick else ("2", "3")
    try:
        out = subprocess.run([bench, "--seconds", secs, "--rounds", rounds], capture_output=True,
                             text=True, timeout=120).stdout
    except subprocess.TimeoutExpired:
        return None
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "median" and parts[1] == "engine":
            return float(parts[3])
    return None


# ---- output ----

def fmt(v, spec="{:.1f}", none="-"):
    return none if v is None else spec.format(v)


def table(results, floor_ns, args):
    floor_us = floor_ns * MESSAGES_PER_CALL / 1000 if floor_ns else None
    lines = []
    if floor_ns:
        lines.append(f"kernel floor: {floor_ns:.0f} ns per UDP message received and sent (engine echo, "
                     f"median) x {MESSAGES_PER_CALL} messages per call = {floor_us:.1f} us per call")
    lines.append(f"shards/children: {args.shards}; common rate {args.common_rate} calls/s; "
                 f"overload at 3x each proxy's capacity")
    head = (f"{'proxy':<20} {'capacity':>9} {'cores':>5} {'us/call':>8} {'calls/':>7} {'x floor':>7} {'us/call':>8} {'p50 us':>7} "
            f"{'p99 us':>7} {'HWM MiB':>8} {'PSS MiB':>8} {'3x rate':>8} {'goodput':>8} {'good %':>6} "
            f"{'503s':>7} {'failed':>7} {'RSS MiB':>13}")
    sub = (f"{'':<20} {'calls/s':>9} {'@cap':>5} {'@cap':>8} {'core-s':>7} {'@cap':>7} {'@common':>8} {'@common':>7} {'@common':>7} "
           f"{'':>8} {'peak':>8} {'offered':>8} {'calls/s':>8} {'of cap':>6} {'':>7} {'':>7} {'start->end':>13}")
    lines += [head, sub]
    for res in results:
        if res.get("status") != "ok":
            lines.append(f"{res['proxy']:<20} {res.get('status')}")
            continue
        cap, common, over = res["at_capacity"], res["common"], res["overload"]
        cap_us = cap["proxy_cpu_us_per_call"] if cap else None
        cap_text = f"{res['capacity']:.0f}" + ("+" if res["capacity_bound"] else "")
        goodput_pct = 100 * over["goodput"] / res["capacity"] if res["capacity"] else None
        over_rate = over["rate"]
        lines.append(
            f"{res['proxy']:<20} {cap_text:>9} {fmt(cap['proxy_cores'] if cap else None, '{:.2f}'):>5} "
            f"{fmt(cap_us):>8} {fmt(1e6 / cap_us if cap_us else None, '{:.0f}'):>7} "
            f"{fmt(cap_us / floor_us if cap_us and floor_us else None, '{:.2f}'):>7} "
            f"{fmt(common['proxy_cpu_us_per_call']):>8} {common['latency_us'].get('p50', '-'):>7} "
            f"{common['latency_us'].get('p99', '-'):>7} {res['vmhwm_kb'] / 1024:>8.1f} "
            f"{res['pss_peak_kb'] / 1024:>8.1f} "
            f"{f'{over_rate:.0f}' + ('' if over.get('delivered', True) else '*'):>8} {over['goodput']:>8.0f} "
            f"{fmt(goodput_pct, '{:.0f}'):>6} {over['failures_by_code'].get('503', 0):>7} "
            f"{over['failures']:>7} "
            f"{over['rss_start_kb'] / 1024:>6.1f}->{over['rss_end_kb'] / 1024:<6.1f}")
    lines.append("capacity: highest rate with < 0.1% failed calls (+: a lower bound: the load generator"
                 " and backends, on the other core(s), could go no faster, or the search's top rate);"
                 " cores: proxy CPU at that rate; us/call: proxy CPU (all threads/processes) per completed"
                 " call; calls/core-s: 1e6 / us/call; 3x offered *: the load generator could not send"
                 f" that on time (send lag p99 > {args.max_lag_ms:g} ms), goodput is of what it sent;"
                 " HWM: VmHWM summed over"
                 " the proxy's processes (counts shared memory once per process); PSS: largest sampled"
                 " sum of PSS (shared memory counted once)")
    return "\n".join(lines)


def plot(results, out_dir):
    if not shutil.which("gnuplot"):
        return None
    ok = [r for r in results if r.get("status") == "ok"]
    if not ok:
        return None
    curves = []
    for r in ok:
        path = os.path.join(out_dir, f"latency-{r['proxy']}.dat")
        points = sorted(((x["rate"], x["latency_us"].get("p50"), x["latency_us"].get("p99"))
                         for x in r["search"] + [r["common"]] if x["latency_us"].get("count")),
                        key=lambda p: p[0])
        with open(path, "w") as f:
            f.writelines(f"{a} {b} {c}\n" for a, b, c in points)
        curves.append((r["proxy"], path))
    bars = os.path.join(out_dir, "overload.dat")
    with open(bars, "w") as f:
        for i, r in enumerate(ok):
            f.write(f"{i} \"{r['proxy']}\" {r['capacity']} {r['overload']['goodput']:.0f} "
                    f"{r['overload']['rate']}\n")
    png = os.path.join(out_dir, "proxy_bench.png")
    script = [
        "set terminal pngcairo size 1400,600 font 'sans,10'" if "pngcairo" in
        subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True).stderr
        else "set terminal png size 1400,600",
        f"set output '{png}'", "set multiplot layout 1,2",
        "set title 'Latency against offered rate (p99 solid, p50 dashed)'",
        "set xlabel 'offered calls/s'", "set ylabel 'INVITE -> 200 latency (us)'", "set logscale xy",
        "set key top left", "set grid",
        "plot " + ", ".join(
            f"'{path}' using 1:3 with linespoints lt {i + 1} title '{name} p99', "
            f"'{path}' using 1:2 with linespoints lt {i + 1} dt 2 title '{name} p50'"
            for i, (name, path) in enumerate(curves)),
        "unset logscale", "set title 'Overload: offered 3x capacity'", "set ylabel 'calls/s'",
        "set xlabel ''", "set style data histograms", "set style histogram clustered gap 1",
        "set style fill solid 0.8 border -1", "set boxwidth 0.9", "set xtics rotate by -15",
        "set yrange [0:*]", "set offsets 0, 0, graph 0.2, 0", "set key top left horizontal",
        f"plot '{bars}' using 3:xtic(2) title 'capacity', '' using 4 title 'goodput at 3x', "
        f"'' using 5 title 'offered at 3x'",
        "unset multiplot",
    ]
    subprocess.run(["gnuplot"], input="\n".join(script), text=True, capture_output=True)
    return png if os.path.exists(png) else None


def stop_on_signal(sig, _frame):
    # Turned into an exception so every `finally` stops the processes it started.
    raise SystemExit(128 + sig)


def main():
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny rates, seconds: checks it runs end to end")
    ap.add_argument("--shards", type=int, default=1, help="sipring shards = Kamailio children (1)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--out", default=None, help="output folder (default: a new temporary folder)")
    ap.add_argument("--proxies", default=",".join(PROXIES))
    ap.add_argument("--common-rate", type=float, default=None, help="latency rate (2000; quick: 100)")
    ap.add_argument("--start-rate", type=float, default=None, help="first search rate (4000; quick: 200)")
    ap.add_argument("--max-rate", type=float, default=None, help="search cap (128000; quick: 400)")
    ap.add_argument("--bisect", type=int, default=None, help="bisection steps (3; quick: 0)")
    ap.add_argument("--step-s", type=float, default=None, help="seconds per search run (4; quick: 1)")
    ap.add_argument("--overload-s", type=float, default=None, help="seconds of overload (5; quick: 1)")
    ap.add_argument("--timeout-ms", type=int, default=2000, help="a call's transaction timeout (2000)")
    ap.add_argument("--pace-us", type=int, default=1000, help="sipload's tick in search/overload runs")
    ap.add_argument("--uac-threads", type=int, default=1)
    ap.add_argument("--sipring-transactions", type=int, default=262144,
                    help="sipring stateful: [transactions] max_per_shard (262144)")
    ap.add_argument("--max-lag-ms", type=float, default=10,
                    help="a run whose calls went out later than this (p99) measured the rig (10)")
    args = ap.parse_args()
    defaults = {"common_rate": (2000, 100), "start_rate": (4000, 200), "max_rate": (128000, 400),
                "bisect": (3, 0), "step_s": (4, 1), "overload_s": (5, 1)}
    for k, (full, quick) in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, quick if args.quick else full)
    args.build = os.path.abspath(args.build)
    for tool in ("tools/sipload/sipload", "tools/sipring/sipring"):
        if not os.path.exists(os.path.join(args.build, tool)):
            log(f"proxy_bench: {tool} is not built under {args.build}")
            return 1
    out_dir = args.out or tempfile.mkdtemp(prefix="proxy_bench-")
    os.makedirs(out_dir, exist_ok=True)
    ncpu = os.cpu_count() or 1
    proxy_cpus = f"0-{args.shards - 1}" if args.shards < ncpu else None
    cpus = {"proxy": proxy_cpus, "load": f"{args.shards}-{ncpu - 1}" if proxy_cpus else None}

    t0 = time.monotonic()
    floor_ns = kernel_floor(args)
    log(f"proxy_bench: kernel floor {fmt(floor_ns, '{:.0f}')} ns/message; output in {out_dir}")
    results = []
    for name in args.proxies.split(","):
        if name not in PROXIES:
            log(f"proxy_bench: unknown proxy {name}")
            return 2
        log(f"proxy_bench: {name}")
        workdir = os.path.join(out_dir, name)
        os.makedirs(workdir, exist_ok=True)
        results.append(bench_proxy(name, args, workdir, cpus))
    text = table(results, floor_ns, args)
    print(text)
    doc = {"command": " ".join(sys.argv), "kernel_floor_ns_per_message": floor_ns,
           "messages_per_call": MESSAGES_PER_CALL, "shards": args.shards, "common_rate": args.common_rate,
           "results": results, "elapsed_s": time.monotonic() - t0}
    with open(os.path.join(out_dir, "proxy_bench.json"), "w") as f:
        json.dump(doc, f, indent=1)
    with open(os.path.join(out_dir, "proxy_bench.txt"), "w") as f:
        f.write(text + "\n")
    png = plot(results, out_dir)
    log(f"proxy_bench: {os.path.join(out_dir, 'proxy_bench.json')}, {png or 'no plot (gnuplot missing)'}; "
        f"{time.monotonic() - t0:.0f} s")
    # Every proxy that ran must have carried its load; one that could not start is reported, not
    # an error (Kamailio may be absent; a sipring build may refuse a mode).
    broken = [r for r in results if r.get("status") == "ok" and not r.get("capacity")]
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
