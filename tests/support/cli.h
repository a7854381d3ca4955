// Runs the cutrain executable (CUTRAIN_CLI_PATH, set by the test targets) as a user would, through
// the shell, and collects its exit code and output.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace cutrain::test {

struct CliResult {
  int code;            ///< exit status; -1 when the command did not exit normally
  std::string output;  ///< what it wrote to the pipe (stdout, and stderr where redirected there)
};

/// Runs `command` with popen and reads its stdout to the end.
inline CliResult run_shell(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

/// Runs `cutrain <args>` (shell syntax) with stdout and stderr together; `env`, e.g.
/// "NAME='value'", is put in front of the command.
inline CliResult run_cli(const std::string& args, const std::string& env = "") {
  return run_shell(env + " '" CUTRAIN_CLI_PATH "' " + args + " 2>&1");
}

}  // namespace cutrain::test
