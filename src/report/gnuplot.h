// Running gnuplot: a script and its data files in a temporary directory, one gnuplot process
// started with posix_spawn (dlb::Subprocess, never a shell). gnuplot missing is an EnvError that
// names the Debian package to install.
#pragma once

#include <filesystem>
#include <string>

namespace dlb::report {

// Creates a fresh directory under $TMPDIR (or /tmp) and removes it, with everything in it, on
// destruction.
// Throws EnvError when gnuplot is not on PATH.
void RequireGnuplot();

// Runs `gnuplot script` in dir; throws EnvError with gnuplot's first error line when it fails.
void RunGnuplot(const std::filesystem::path& dir, const std::string& script_name);

}  // namespace dlb::report
