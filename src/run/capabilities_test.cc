// Pins the real capability source without Python: a worker here is a shell command that prints a
// line. Each argv is asked once per cache; a worker that exits, prints garbage or cannot start is
// one error line, naming the experiment's file:line for a user entry (UserError, exit 2) and the
// worker for a built-in one (EnvError, exit 3).
#include "run/capabilities.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace dlb::run {
namespace {

const char* kLine =
    R"({"capabilities":1,"protocol":1,"worker":"tiny","framework":"tiny","models":["m"],)"
    R"("precisions":["fp32"],"devices":["cpu"],"workloads":["inference"],"layouts":["default"],)"
    R"("options":[],"requests":["hello","load","measure","bye"],"canonical_weights":false})";

// sh -c SCRIPT sh --capabilities: the appended flag is $1. The script's braces are doubled, as a
// template's literal braces must be.
plan::WorkerEntry Shell(const std::string& script, const std::string& defined_at = "exp.toml:3") {
  std::string escaped;
  for (char c : script) {
    escaped += c;
    if (c == '{' || c == '}') escaped += c;
  }
  return {"tiny", {"/bin/sh", "-c", escaped, "sh"}, defined_at, std::nullopt};
}

std::string ErrorOf(WorkerCapabilityCache& cache, const plan::WorkerEntry& e) {
  try {
    cache.Get(e);
  } catch (const std::exception& ex) {
    return ex.what();
  }
  return "no error";
}

TEST(CapabilityCache, AsksEachArgvOnce) {
  WorkerCapabilityCache cache(WorkerLaunch{});
  auto entry = Shell(std::string("test \"$1\" = --capabilities && echo '") + kLine + "'");
  const plan::WorkerCapabilities& c = cache.Get(entry);
  EXPECT_EQ(c.models, (std::vector<std::string>{"m"}));
  EXPECT_EQ(&cache.Get(entry), &c);
  EXPECT_EQ(cache.calls(), 1);
}

TEST(CapabilityCache, AWorkerThatCannotSay) {
  WorkerCapabilityCache cache(WorkerLaunch{}, 5);
  std::string e = ErrorOf(cache, Shell("echo nope >&2; exit 3"));
  EXPECT_EQ(e.rfind("exp.toml:3: workers.tiny.command: the worker cannot say what it runs (/bin/sh "
                    "-c echo nope >&2; exit 3 sh --capabilities): ", 0), 0u) << e;
  EXPECT_NE(e.find("nope"), std::string::npos) << e;  // its log
  e = ErrorOf(cache, Shell("echo torch resnet18"));
  EXPECT_NE(e.find("capabilities are not JSON: \"torch resnet18\""), std::string::npos) << e;
  EXPECT_THROW(cache.Get({"torch", {"/nonexistent/python", "-m", "dlbench_worker", "torch"}, "", std::nullopt}),
               EnvError);
}

}  // namespace
}  // namespace dlb::run
