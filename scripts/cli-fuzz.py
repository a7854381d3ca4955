#!/usr/bin/env python3
"""CLI fuzz: every flag of every `cutrain` command, given malformed values.

"Every parser against malformed input": the command line is one too. For each command this
script starts from a small valid run (generated data, a few examples, CPU) and replaces one
flag's value at a time with something malformed (empty, negative, NaN, overflowing, huge,
a path that is not there, a string where a number belongs, ...), or drops the value. The flags
are read from each command's --help, so a flag added later is fuzzed without editing this
file; a command added later without a base run here is reported as a problem.

Each run must end by itself (no timeout) with exit status 0, 1 or 2: 2 with a usage message
(a line "cutrain: ..."), 1 with "cutrain: error: ..." (or `info`'s verdict), never a signal, an
uncaught exception, a sanitizer report or silence.

    python3 scripts/cli-fuzz.py build/bin/cutrain              # every flag x every value
    python3 scripts/cli-fuzz.py build/bin/cutrain --sample 1   # 1 value per flag (ctest)
    python3 scripts/cli-fuzz.py build/bin/cutrain --only train,eval -j 2

Exit status: 0 when every run behaved, 1 otherwise (each problem printed with its command).
"""
import argparse
import concurrent.futures
import os
import random
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile

# Malformed or extreme values; some are valid for some flags (a path, a schedule spec), which is
# fine: then the run must simply succeed or fail cleanly. Paths are relative to the run's own
# directory, so nothing is written outside it even as root ("airfoil.dat/x" cannot be created:
# its parent is a file).
VALUES = [
    "", "-1", "0", "-0", "nan", "inf", "-inf", "1e999", "1e-320", "abc", "1.5", "0x10", " 3",
    "3 ", "2147483648", "9223372036854775808", "-9223372036854775809",
    "99999999999999999999", "1,2", "1e3", "airfoil.dat/x", "missing/x", ".", "--", "=", "1;2",
    "\x01", "\u00e9", "a" * 5000, "data", "ck/last.safetensors", "m.jsonl", "airfoil.dat",
    "cosine", "cosine:", "cosine:warmup=", "factor:factor=0", "multifactor:milestones=3;2",
    "onecycle:max_update=0", "plateau:patience=-1", "step:step_size=0",
    "poly:max_update=5,p=-1", "cosine:max_update=1e30", "exponential:k=1e308",
    "cosine:max_update=10,warmup=20", "constant:" + "x" * 3000, "4,3,0,5", "4,3,5",
    "0,1,1,1", "-4,3,5,5", "4,3,5,5,5", "1e308,1,1,1", "65536,65536,65536,65536",
]

# A small valid run of each command, in the work directory that setup() fills.
BASES = {
    "train": "train --device cpu --data data --epochs 1 --batch-size 64 --no-progress "
             "--train-limit 128",
    "eval": "eval --checkpoint ck/last.safetensors --data data --device cpu",
    "schedule": "schedule --scheduler cosine:max_update=10,warmup=2 --steps 20",
    "plot": "plot m.jsonl --output out.svg",
    "bench optimizer": "bench optimizer --device cpu --params 1000 --iterations 3 --warmup 1",
    "bench train": "bench train --device cpu --data data --epochs 1 --batch-size 64",
    "bench batchnorm": "bench batchnorm --device cpu --shape 4,3,5,5 --iterations 2 --warmup 1",
    "time": "time --device cpu --batch-size 8 --iterations 2 --warmup 1",
    "optim-lab trace": "optim-lab trace --function quadratic2d --optimizer adam --steps 10",
    "optim-lab regression": "optim-lab regression --data airfoil.dat --epochs 1",
    "info": "info --data data",
}
# Positional arguments, fuzzed like a flag's value: (command, the base run's value).
POSITIONALS = [("plot", "m.jsonl")]
# Flags left alone: they only print help or the version.
SKIP_FLAGS = {"-h", "--help", "--version"}
CRASH_TEXT = ("terminate called", "Segmentation fault", "AddressSanitizer", "runtime error:",
              "LeakSanitizer", "Aborted", "core dumped", "what():")


def write_idx(directory, prefix, count, seed):
    """Fashion-MNIST-shaped IDX files: class c lights every tenth pixel from c."""
    rng = random.Random(seed)
    labels = bytes(rng.randrange(10) for _ in range(count))
    images = bytearray()
    for label in labels:
        images += bytes(200 if k % 10 == label else rng.randrange(50) for k in range(784))
    with open(os.path.join(directory, prefix + "-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, count, 28, 28) + bytes(images))
    with open(os.path.join(directory, prefix + "-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, count) + labels)


def setup(cli, work):
    """The pristine inputs every run starts from: data, an airfoil file, a checkpoint, metrics."""
    os.makedirs(os.path.join(work, "data"))
    write_idx(os.path.join(work, "data"), "train", 256, 1)
    write_idx(os.path.join(work, "data"), "t10k", 64, 2)
    rng = random.Random(3)
    with open(os.path.join(work, "airfoil.dat"), "w") as f:
        for _ in range(1503):  # the regression experiment needs at least 1500 rows
            f.write("\t".join(f"{rng.random() * 100:.4f}" for _ in range(6)) + "\n")
    subprocess.run([cli] + shlex.split(BASES["train"]) + ["--checkpoint-dir", "ck", "--metrics",
                   "m.jsonl"], cwd=work, check=True, capture_output=True, timeout=300)


def restore(pristine, work):
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(pristine, work)


def help_text(cli, command):
    return subprocess.run([cli] + command.split() + ["--help"], capture_output=True, text=True,
                          timeout=60).stdout


def subcommands(cli, command=""):
    """Names listed under 'Subcommands:' in a command's help."""
    text = help_text(cli, command) if command else subprocess.run(
        [cli, "--help"], capture_output=True, text=True, timeout=60).stdout
    names, inside = [], False
    for line in text.splitlines():
        if line.strip() == "Subcommands:":
            inside = True
        elif inside and re.match(r"^  \S", line):
            names.append(line.split()[0])
        elif inside and line.strip() and not line.startswith("   "):
            inside = False
    return names


def commands(cli):
    """Every leaf command, e.g. 'train', 'bench optimizer'."""
    out = []
    for name in subcommands(cli):
        nested = subcommands(cli, name)
        out += [name + " " + n for n in nested] if nested else [name]
    return out


def value_flags(cli, command):
    """(flag, takes_value) for each option in the command's help."""
    flags = []
    for line in help_text(cli, command).splitlines():
        m = re.match(r"^\s+(-[\w-]+(?:,--?[\w-]+)*)\s*(\S*)", line)
        if not m:
            continue
        names = m.group(1).split(",")
        flag = max(names, key=len)
        if flag in SKIP_FLAGS:
            continue
        takes_value = re.match(r"^(TEXT|INT|UINT|FLOAT|NUMBER|ENUM|\[)", m.group(2)) is not None
        flags.append((flag, takes_value))
    return flags


def cases(cli, only, sample):
    """(command, argv) pairs: each value flag given each value (or a sample), then dropped.
    Exits when the help cannot be read as expected: a fuzzer that finds nothing to fuzz must not
    pass."""
    found = commands(cli)
    missing = sorted((set(BASES) | only) - set(found))
    if not found or missing:
        sys.exit(f"cli-fuzz: commands found in --help: {found}; not found: {missing} (a renamed "
                 "command, a typo in --only, or help text this script cannot read)")
    out = []
    # With --sample, value k of flag i (i counted across all commands, so that the sample
    # covers every value: 7 is prime to len(VALUES)).
    flag_index = 0
    for command in found:
        if only and command not in only:
            continue
        if command not in BASES:
            out.append((command, None))  # reported: no base run for a new command
            continue
        base = shlex.split(BASES[command])
        flags = value_flags(cli, command)
        if not flags:
            sys.exit(f"cli-fuzz: no flags read from 'cutrain {command} --help'")
        pick = (lambda i: VALUES) if sample == 0 else (
            lambda i: [VALUES[(i * 7 + k * 11) % len(VALUES)] for k in range(sample)])
        for flag, takes_value in flags:
            i, flag_index = flag_index, flag_index + 1
            if not takes_value:
                out.append((command, base + [flag, flag]))  # a switch given twice
                continue
            if flag not in base and any(f.startswith(flag + "=") for f in base):
                sys.exit(f"cli-fuzz: write {flag} in BASES['{command}'] as '{flag} VALUE'")
            for v in pick(i):
                args = list(base)
                if flag in args:
                    args[args.index(flag) + 1] = v
                else:
                    args += [flag, v]
                out.append((command, args))
            out.append((command, base + [flag]))  # the value missing
        for pcommand, value in POSITIONALS:
            if pcommand == command:
                for v in pick(flag_index):
                    out.append((command, [v if a == value else a for a in base]))
                flag_index += 1
        # Input the parser cannot take must be a usage error, never ignored.
        out.append((command, base + ["--no-such-flag"]))
        out.append((command, base + ["stray-positional"]))
    return out


def judge(command, args, result):
    """The problems with one run (empty when it behaved)."""
    if args is None:
        return [f"no base run for '{command}' in scripts/cli-fuzz.py BASES"]
    if result is None:
        return ["did not finish within the time limit"]
    code, out = result
    problems = []
    if args[-1] in ("--no-such-flag", "stray-positional") and code != 2:
        problems.append(f"exit status {code} for input the parser cannot take (expected 2)")
    if code not in (0, 1, 2):
        problems.append(f"exit status {code}")
    for text in CRASH_TEXT:
        if text in out:
            problems.append(f"output contains '{text}'")
    if code in (1, 2) and not out.strip():
        problems.append("failed without a message")
    lines = out.splitlines()
    if code == 2 and not any(line.startswith("cutrain: ") for line in lines):
        problems.append("usage error without a 'cutrain: ...' line")
    if code == 1 and "cutrain: error: " not in out and not (
            command == "info" and ("problem:" in out or "not usable" in out)):
        problems.append("runtime failure without 'cutrain: error: ...'")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("cli", help="the cutrain executable")
    parser.add_argument("--sample", type=int, default=0,
                        help="values per flag (0 = all %d)" % len(VALUES))
    parser.add_argument("--only", default="", help="comma-separated commands, e.g. train,eval")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60, help="seconds per run")
    opts = parser.parse_args()
    cli = os.path.abspath(opts.cli)
    only = {c.strip() for c in opts.only.split(",") if c.strip()}

    with tempfile.TemporaryDirectory(prefix="cutrain-cli-fuzz-") as tmp:
        pristine = os.path.join(tmp, "pristine")
        os.makedirs(pristine)
        setup(cli, pristine)
        todo = cases(cli, only, opts.sample)
        # The same modest limit on every machine: a value that asks for a huge run (2^31
        # parameters, a batch of a million) is then refused at once, not filled for minutes on a
        # machine with the memory to try.
        env = dict(os.environ, OMP_NUM_THREADS="1", CUTRAIN_HOST_MEMORY_LIMIT="2G")

        def run(index_case):
            index, (command, args) = index_case
            if args is None:
                return command, args, None
            work = os.path.join(tmp, f"w{index}")
            restore(pristine, work)
            try:
                p = subprocess.run([cli] + args, cwd=work, capture_output=True,
                                   timeout=opts.timeout, env=env)
                result = (p.returncode, (p.stdout + p.stderr).decode(errors="replace"))
            except subprocess.TimeoutExpired:
                result = None
            shutil.rmtree(work, ignore_errors=True)
            return command, args, result

        problems, codes = 0, {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=opts.jobs) as pool:
            for command, args, result in pool.map(run, enumerate(todo)):
                if result is not None:
                    codes[result[0]] = codes.get(result[0], 0) + 1
                found = judge(command, args, result)
                if found:
                    problems += 1
                    shown = shlex.join(args)[:300] if args else command
                    tail = result[1][-600:] if result else ""
                    print(f"PROBLEM {'; '.join(found)}: cutrain {shown}\n  {tail}", flush=True)
    print(f"cli-fuzz: {len(todo)} runs of {len({c for c, _ in todo})} commands; exit statuses "
          f"{dict(sorted(codes.items()))}; {problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
