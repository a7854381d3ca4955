#!/usr/bin/env python3
"""Mutation check: does the CPU test suite notice when the math is wrong?

"A test that cannot fail is a defect." This script plants one deliberate bug at a time (a
mutant) in the code the tests are meant to guard: the shared __host__ __device__ math of the
kernels (whose CPU twins the tests run), the CPU layers, the chunk table, the schedules and
the parsers. For each mutant it rebuilds a CPU-only build directory, runs the CPU suite
(ctest -LE gpu, stopping at the first failure), and restores the file. A mutant the suite does
not kill is a hole in the tests (or an equivalent mutant; each mutant below is chosen to change
results).

    python3 scripts/mutation-check.py              # every mutant (about 1-2 min each, 2 cores)
    python3 scripts/mutation-check.py adam yogi    # those whose name contains a word given
    python3 scripts/mutation-check.py --check      # only: does every mutant still apply? (ctest)
    BUILD_DIR=build-mut JOBS=2 ...                 # defaults

The build directory is configured with -DCUTRAIN_CUDA=OFF on first use. Source files are
always restored (also on Ctrl-C); the script refuses to start if a target file has
uncommitted changes, so a restore can never lose work. Exit status: 0 when every mutant was
killed, 1 otherwise.
"""
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = ROOT / os.environ.get("BUILD_DIR", "build-mut")
JOBS = os.environ.get("JOBS", "2")

# (name, file, exact text, replacement). Each text must occur exactly once in its file.
MUTANTS = [
    # Optimizer rules (kernels/optimizer_math.h), shared by the CUDA kernel and the CPU twin.
    ("l2-decay-drops-x", "kernels/optimizer_math.h",
     "g += c.wd * x;  // L2", "g += c.wd;  // L2"),
    ("momentum-ignores-velocity", "kernels/optimizer_math.h",
     "    x -= c.eta * s0;\n", "    x -= c.eta * g;\n"),
    ("nesterov-as-momentum", "kernels/optimizer_math.h",
     "x -= c.eta * (g + c.k.beta1 * s0);", "x -= c.eta * s0;"),
    ("adagrad-sums-g", "kernels/optimizer_math.h", "s0 += g * g;", "s0 += g;"),
    ("rmsprop-no-leak", "kernels/optimizer_math.h",
     "    s0 = c.k.beta2 * s0 + (1.0f - c.k.beta2) * g * g;\n    x -= c.eta * g",
     "    s0 = s0 + (1.0f - c.k.beta2) * g * g;\n    x -= c.eta * g"),
    ("adadelta-state-from-g", "kernels/optimizer_math.h",
     "(1.0f - c.k.beta2) * step * step;", "(1.0f - c.k.beta2) * g * g;"),
    ("adadelta-no-eps-numerator", "kernels/optimizer_math.h",
     "sqrtf(s1 + c.k.eps) / sqrtf(s0 + c.k.eps)", "sqrtf(s1 + c.k.eps) / sqrtf(s0 + 1e-3f)"),
    ("adam-no-bias-correction-1", "kernels/optimizer_math.h", "(s0 / c.bc1)", "s0"),
    ("adam-eps-inside-sqrt", "kernels/optimizer_math.h",
     "(sqrtf(s1 / c.bc2) + c.k.eps)", "sqrtf(s1 / c.bc2 + c.k.eps)"),
    ("adamw-decay-without-lr", "kernels/optimizer_math.h",
     "x -= c.eta * c.wd * x;", "x -= c.wd * x;"),
    ("yogi-never-shrinks", "kernels/optimizer_math.h",
     "static_cast<float>((d > 0.0f) - (d < 0.0f))", "static_cast<float>(d > 0.0f)"),
    ("bias-correction-off-by-one", "kernels/optimizer_math.h",
     "pow(static_cast<double>(beta), static_cast<double>(t))",
     "pow(static_cast<double>(beta), static_cast<double>(t + 1))"),
    # Not a mutant: begin_step's "grad_scale = 1" is equivalent code (clipping is fixed for an
    # optimizer's life: with it the norm kernel rewrites the scale every step, without it the
    # scale is never anything but 1).
    ("clip-scale-inverted", "kernels/grad_norm_cpu.cpp",
     "max_norm / (norm + 1e-6f)", "norm / (max_norm + 1e-6f)"),
    ("chunk-tail-full-length", "kernels/multi_tensor.h",
     "(s.numel - off < chunk) ? s.numel - off : chunk", "chunk"),
    ("group-lr-scale-ignored", "kernels/optimizer_update_cpu.cpp",
     "st.lr * chunk.lr_scale", "st.lr"),
    # Batch normalization (kernels/batchnorm_math.h).
    ("bn-merge-drops-between-term", "kernels/batchnorm_math.h",
     "r.m2 = a.m2 + b.m2 + delta * delta * (a.count * b.count / count);",
     "r.m2 = a.m2 + b.m2;"),
    ("bn-running-var-biased", "kernels/batchnorm_math.h",
     "m.m2 / (m.count - 1.0)", "m.m2 / m.count"),
    ("bn-momentum-swapped", "kernels/batchnorm_math.h",
     "(1.0 - momentum) * running_mean + momentum * m.mean",
     "momentum * running_mean + (1.0 - momentum) * m.mean"),
    ("bn-eps-dropped", "kernels/batchnorm_math.h",
     "u.inv_std = static_cast<float>(1.0 / sqrt(var + eps));",
     "u.inv_std = static_cast<float>(1.0 / sqrt(var + 1e-2));"),
    ("bn-backward-no-xhat-term", "kernels/batchnorm_math.h",
     "scale * (dy - mean_dy - mul_rn(xhat, mean_dy_xhat))", "scale * (dy - mean_dy)"),
    ("bn-relu-mask-dropped", "kernels/batchnorm_math.h",
     "return relu && !(y > 0.0f) ? 0.0f : dy;", "return dy;"),
    # Precise BN (models/src): the cumulative average, and its reach into the blocks.
    ("bn-cumulative-keeps-momentum", "models/src/layers/batchnorm.cpp",
     "cfg.momentum = 1.0 / static_cast<double>(++cumulative_batches_);",
     "++cumulative_batches_;"),
    ("dense-block-no-cumulative", "models/src/dense_block.cpp",
     "  for (auto& bn : bns_) bn->set_cumulative_statistics(on);", "  (void)on;"),
    ("trainer-skips-precise-bn", "core/src/train/trainer.cpp",
     "    pipeline_.recompute_batchnorm_statistics(train_loader_.dataset(), options_.train_limit);",
     "    (void)0;"),
    # Loss, activations, elementwise ops.
    ("softmax-grad-no-label", "kernels/softmax_ce_math.h",
     "(c == label ? 1.0f : 0.0f)", "0.0f"),
    ("softmax-loss-no-shift", "kernels/softmax_ce_math.h",
     "return {(m - z_label) + logf(sum)", "return {-z_label + logf(sum)"),
    ("sigmoid-grad-wrong", "kernels/activation_math.h",
     "  return dy * y * (1.0f - y);\n}\n\n/// The same derivative",
     "  return dy * y;\n}\n\n/// The same derivative"),
    ("sigmoid-grad-from-output-wrong", "kernels/activation_math.h",
     "  return dy * y * (1.0f - y);\n}\n\n}  // namespace", "  return dy * y;\n}\n\n}  // namespace"),
    ("relu-grad-from-output-leaks", "kernels/activation_math.h",
     "if (a == Activation::ReLU) return y > 0.0f ? dy : 0.0f;",
     "if (a == Activation::ReLU) return y >= 0.0f ? dy : 0.0f;"),
    ("residual-relu-grad-unmasked", "kernels/add_math.h",
     "  return relu && !(y > 0.0f) ? 0.0f : dy;", "  return dy;"),
    ("gap-backward-no-area", "kernels/global_avg_pool_math.h",
     "return dy * inv_area;", "return dy;"),
    ("bilinear-weights-swapped", "kernels/bilinear_resize_math.h",
     "t.w0 = 1.0f - w1;", "t.w0 = w1;"),
    ("conv-bias-grad-activation-ignored", "kernels/channel_bias_activation_cpu.cpp",
     "const float v = activation_backward_from_output(a, y[base + j], dy[base + j]);",
     "const float v = dy[base + j];"),
    ("shuffle-ignores-epoch", "kernels/batch_gather_math.h",
     "splitmix64(splitmix64(seed) ^ epoch)", "splitmix64(splitmix64(seed))"),
    # CPU layers.
    ("col2im-drops-padding-check", "models/src/layers/im2col_cpu.cpp",
     "if (x >= 0 && x < g.width) dst[x] += in[j];", "if (x >= 0 && x < g.width) dst[x] = in[j];"),
    ("avgpool-grad-no-area", "models/src/layers/pooling.cpp",
     "+= g[i * wo + j] * inv_area;", "+= g[i * wo + j];"),
    # Schedules.
    ("multifactor-milestone-late", "core/src/schedule/factory.cpp",
     "if (double(t) >= m) lr *= alpha;", "if (double(t) > m) lr *= alpha;"),
    ("warmup-off-by-one", "core/src/schedule/schedules.cpp",
     "static_cast<double>(t) / static_cast<double>(steps_)",
     "static_cast<double>(t + 1) / static_cast<double>(steps_)"),
    ("cosine-half-period", "core/src/schedule/factory.cpp",
     "(1.0 + std::cos(kPi * frac)) / 2.0", "(1.0 + std::cos(2.0 * kPi * frac)) / 2.0"),
    ("plateau-patience-off-by-one", "core/src/schedule/schedules.cpp",
     "if (++bad_epochs_ > patience_)", "if (++bad_epochs_ >= patience_)"),
    # Parsers.
    ("safetensors-no-bounds-check", "core/src/io/safetensors.cpp",
     "if (end < begin || end > buffer)", "if (end < begin)"),
    ("checkpoint-optimizer-shape-unchecked", "core/src/train/checkpoint.cpp",
     "if (param && a->shape != param->tensor->shape() && a->shape != flat)", "if (false)"),
    ("plateau-state-unvalidated", "core/src/schedule/schedules.cpp",
     "if (!std::isfinite(lr) || lr < 0.0)", "if (false)"),
    ("atomic-write-keeps-partial-tmp", "core/src/io/atomic_file.cpp",
     "  if (err != 0) {\n    ::unlink(tmp.c_str());", "  if (err != 0) {"),
    ("safetensors-overlap-allowed", "core/src/io/safetensors.cpp",
     "if (spans[i].begin < cursor) fail(", "if (false) fail("),
    ("metrics-epoch-any-number", "core/src/train/metrics.cpp",
     "if (!(v >= 0 && v <= 1e9 && v == std::floor(v)))", "if (!(v >= 0))"),
    ("metrics-csv-partial-field", "core/src/io/parse_double.h",
     "  if (end != text.c_str() + text.size()) return std::nullopt;",
     "  if (end == text.c_str()) return std::nullopt;"),
    ("text-number-refuses-underflow", "core/src/io/parse_double.h",
     "  if (errno == ERANGE && std::isinf(v)) return std::nullopt;",
     "  if (errno == ERANGE) return std::nullopt;"),
    # The CPU memory limit: the bytes already held, the cgroup path's ancestors, shapes whose
    # byte count wraps.
    ("host-check-ignores-in-use", "core/src/host_memory.cpp",
     "  if (bytes <= limit - std::min(in_use, limit)) return;", "  if (bytes <= limit) return;"),
    ("cgroup-own-group-only", "core/src/host_memory.cpp",
     '      if (path == "/") break;', "      break;"),
    ("numel-bytes-wrap", "core/src/tensor.cpp",
     "  if (n > INT64_MAX / static_cast<int64_t>(sizeof(float)))",
     "  if (false && n > INT64_MAX / static_cast<int64_t>(sizeof(float)))"),
    ("stored-config-unchecked", "apps/cutrain/train_config.cpp",
     "  check_stored_values(r, path);\n  return r;", "  return r;"),
    # cutrain info's compatibility rule for loaded libraries (cuDNN's: same major, minor at least).
    ("library-minor-rule-inverted", "core/src/build_info.cpp",
     "else if (loaded_minor < built_minor)", "else if (loaded_minor > built_minor)"),
    ("library-without-version-accepted", "core/src/build_info.cpp",
     "if (build.cuda && build.cudnn > 0 && runtime.cudnn <= 0)",
     "if (build.cuda && build.cudnn > 0 && runtime.cudnn < 0)"),
    ("info-problems-always-fatal", "apps/cutrain/info_command.h",
     "data_loads && (!library_problems || !cuda_used)", "data_loads && !library_problems"),
]


def run(cmd, log):
    with open(log, "w") as f:
        return subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT).returncode


def dirty(path):
    out = subprocess.run(["git", "status", "--porcelain", "--", path], cwd=ROOT,
                         capture_output=True, text=True).stdout
    return bool(out.strip())


def stale(mutants):
    """Messages for the mutants whose text does not occur exactly once in their file."""
    out = []
    for name, path, old, _ in mutants:
        count = (ROOT / path).read_text().count(old)
        if count != 1:
            out.append(f"mutation-check: mutant '{name}': the text occurs {count} times in {path} "
                       "(expected once); update the mutant")
    return out


def main():
    if sys.argv[1:] == ["--check"]:  # ctest: every mutant still applies (no build, no tests)
        problems = stale(MUTANTS)
        print("\n".join(problems) or f"mutation-check: all {len(MUTANTS)} mutants apply")
        return 1 if problems else 0
    words = sys.argv[1:]
    chosen = [m for m in MUTANTS if not words or any(w in m[0] for w in words)]
    if not chosen:
        sys.exit(f"mutation-check: no mutant matches {words}")
    problems = stale(chosen)
    if problems:
        sys.exit("\n".join(problems))
    for name, path, old, _ in chosen:
        if dirty(path):
            sys.exit(f"mutation-check: {path} has uncommitted changes; commit or stash first")
    if not (BUILD / "CMakeCache.txt").exists():
        if run(["cmake", "-S", ".", "-B", str(BUILD), "-DCMAKE_BUILD_TYPE=Release",
                "-DCUTRAIN_CUDA=OFF"], "/tmp/mutation-configure.log"):
            sys.exit("mutation-check: configure failed (/tmp/mutation-configure.log)")
    if run(["cmake", "--build", str(BUILD), "-j", JOBS], "/tmp/mutation-build.log"):
        sys.exit("mutation-check: the unmutated tree does not build (/tmp/mutation-build.log)")

    survivors = []
    for name, path, old, new in chosen:
        file = ROOT / path
        original = file.read_text()
        start = time.time()
        try:
            file.write_text(original.replace(old, new))
            if run(["cmake", "--build", str(BUILD), "-j", JOBS], f"/tmp/mutant-{name}-build.log"):
                verdict = "killed (does not compile)"
            else:
                rc = run(["ctest", "--test-dir", str(BUILD), "-LE", "gpu", "-j", JOBS,
                          "--stop-on-failure", "--timeout", "300"], f"/tmp/mutant-{name}-test.log")
                verdict = "killed" if rc else "SURVIVED"
        finally:
            file.write_text(original)
        if verdict == "killed":
            failed = [l.split(" - ", 1)[-1].split(" (")[0].split("  #")[0].strip()
                      for l in open(f"/tmp/mutant-{name}-test.log") if " - " in l and "(Failed" in l]
            verdict += f" by {failed[0]}" + (f" (+{len(failed) - 1})" if len(failed) > 1 else "") \
                if failed else ""
        else:
            survivors += [name] if verdict == "SURVIVED" else []
        print(f"{name:36s} {verdict}  [{time.time() - start:.0f} s]", flush=True)
    # Leave the build matching the restored sources.
    run(["cmake", "--build", str(BUILD), "-j", JOBS], "/tmp/mutation-build.log")
    print(f"\n{len(chosen) - len(survivors)} of {len(chosen)} mutants killed"
          + (f"; survivors: {', '.join(survivors)}" if survivors else ""))
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
