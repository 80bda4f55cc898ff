// dlbench slurm submit | status | resume: a sweep on a Slurm cluster (docs/fleet.md). Slurm does
// the scheduling; dlbench writes the job scripts (run/slurm.h), submits them with sbatch, reads the
// queue with squeue and scontrol, and reads each shard's own database to tell what finished. Tools
// are started with an argv vector, never through a shell.
#include <poll.h>

#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "analysis/pairing.h"
#include "plan/expand.h"
#include "plan/parse.h"
#include "run/capabilities.h"
#include "report/table.h"
#include "run/slurm.h"
#include "store/query.h"
#include "store/store.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/process.h"
#include "util/strings.h"

namespace dlb::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ToolResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs a Slurm client (sbatch, squeue, scontrol) with its output captured. EnvError when it cannot
// be started (not installed).
ToolResult RunTool(const std::vector<std::string>& argv) {
  Pipe out = MakePipe(), err = MakePipe();
  SpawnSpec spec{argv, CurrentEnvironment(), -1, out.write.get(), err.write.get()};
  Subprocess p = Subprocess::Spawn(spec);
  out.write.Reset();
  err.write.Reset();
  ToolResult r;
  pollfd fds[2] = {{out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}};
  std::string* bufs[2] = {&r.out, &r.err};
  int open = 2;
  while (open > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        bufs[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open;
      }
    }
  }
  r.exit_code = p.Wait().exit_code;
  return r;
}

// sbatch --parsable prints "ID" or "ID;cluster".
std::string Submit(const std::vector<std::string>& argv) {
  ToolResult r = RunTool(argv);
  std::string id(Trim(r.out.substr(0, r.out.find(';'))));
  if (r.exit_code != 0 || id.empty() || !ParseInt(id)) {
    throw EnvError(fmt::format("{} failed (exit {}): {}", Join(argv, " "), r.exit_code,
                               Trim(r.err.empty() ? r.out : r.err)));
  }
  return id;
}

// What submit leaves in the sweep's directory for status and resume.
struct Submission {
  std::string sweep_id, experiment, name;
  int shards = 0;
  int array_parallelism = 0;
  std::vector<std::string> array_jobs, merge_jobs;  // every submission, oldest first
};

std::string SubmissionPath(const std::string& dir) { return dir + "/submission.json"; }

void Save(const std::string& dir, const Submission& s) {
  json j = {{"format", "dlbench-slurm"}, {"version", 1}, {"sweep_id", s.sweep_id},
            {"experiment", s.experiment}, {"name", s.name}, {"shards", s.shards},
            {"array_parallelism", s.array_parallelism}, {"array_jobs", s.array_jobs},
            {"merge_jobs", s.merge_jobs}};
  WriteFileAtomically(SubmissionPath(dir), j.dump(2) + "\n");
}

Submission Load(const std::string& dir) {
  const std::string path = SubmissionPath(dir);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw UserError(fmt::format("{}: no submission.json; DIR is the directory `dlbench slurm submit` "
                                "printed",
                                dir));
  }
  try {
    json j = json::parse(ReadFileOrThrow(path, 1 << 20));
    Submission s;
    s.sweep_id = j.at("sweep_id").get<std::string>();
    s.experiment = j.at("experiment").get<std::string>();
    s.name = j.at("name").get<std::string>();
    s.shards = j.at("shards").get<int>();
    s.array_parallelism = j.value("array_parallelism", 0);
    s.array_jobs = j.at("array_jobs").get<std::vector<std::string>>();
    s.merge_jobs = j.at("merge_jobs").get<std::vector<std::string>>();
    return s;
  } catch (const json::exception& e) {
    throw UserError(fmt::format("{}: not a dlbench submission file: {}", path, e.what()));
  }
}

// A shard's state as its database tells it.
struct ShardState {
  bool exists = false, complete = false;
  std::string status = "missing";
  int64_t repetitions = 0;
};

ShardState ReadShard(const std::string& dir, const Submission& s, int shard) {
  ShardState st;
  const std::string path = run::ShardDbPath(dir, shard);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return st;
  st.exists = true;
  st.status = "no run";
  auto store = store::Store::OpenExisting(path);
  for (const auto& r : store::ListRuns(store.db())) {
    if (r.sweep_id != s.sweep_id || r.shard_index != shard) continue;
    st.status = r.status;
    st.complete = r.status == "complete";
    store::Stmt q = store.db().Prepare(
        "SELECT COUNT(*) FROM repetitions JOIN cells USING (cell_id) WHERE run_id = ?");
    q.Bind(1, r.run_id);
    q.Step();
    st.repetitions = q.Int(0);
  }
  return st;
}

// Slurm's view of the sweep's jobs: "shard I" or "merge" -> state, from squeue (queued, running)
// and scontrol (ended, while the controller still remembers: MinJobAge).
std::map<std::string, std::string> QueueStates(const Submission& s) {
  std::map<std::string, std::string> states;
  std::set<std::string> arrays(s.array_jobs.begin(), s.array_jobs.end());
  std::set<std::string> merges(s.merge_jobs.begin(), s.merge_jobs.end());
  auto note = [&](const std::string& job, const std::string& task, const std::string& state) {
    if (merges.count(job)) {
      states["merge"] = state;
    } else if (arrays.count(job) && ParseInt(task)) {
      states["shard " + task] = state;
    } else if (arrays.count(job) && !task.empty()) {
      // Tasks not started yet, as a range: "[1-3,5%2]" (squeue) or "1-3,5%2" (scontrol).
      std::string spec = task.substr(0, task.find('%'));
      std::erase(spec, '[');
      std::erase(spec, ']');
      for (const auto& part : Split(spec, ',')) {
        const size_t dash = part.find('-');
        auto lo = ParseInt(part.substr(0, dash));
        auto hi = dash == std::string::npos ? lo : ParseInt(part.substr(dash + 1));
        if (!lo || !hi || *hi - *lo > 100000) continue;
        for (int64_t i = *lo; i <= *hi; ++i) states[fmt::format("shard {}", i)] = state;
      }
    }
  };
  // scontrol first (ended jobs too), squeue last (the live state wins).
  for (const auto& id : s.array_jobs) {
    ToolResult r = RunTool({"scontrol", "show", "job", "-o", id});
    if (r.exit_code != 0) continue;
    for (const auto& line : Split(r.out, '\n')) {
      std::map<std::string, std::string> kv;
      for (const auto& f : Split(line, ' ')) {
        if (auto eq = f.find('='); eq != std::string::npos) kv[f.substr(0, eq)] = f.substr(eq + 1);
      }
      note(kv["ArrayJobId"].empty() ? kv["JobId"] : kv["ArrayJobId"], kv["ArrayTaskId"],
           kv["JobState"] + (kv["ExitCode"].empty() || kv["ExitCode"] == "0:0" ? "" : " exit " + kv["ExitCode"]));
    }
  }
  for (const auto& id : s.merge_jobs) {
    ToolResult r = RunTool({"scontrol", "show", "job", "-o", id});
    if (r.exit_code != 0) continue;
    if (auto at = r.out.find("JobState="); at != std::string::npos) {
      states["merge"] = r.out.substr(at + 9, r.out.find(' ', at) - at - 9);
    }
  }
  ToolResult q = RunTool({"squeue", "-h", "-o", "%A|%K|%i|%T"});
  if (q.exit_code == 0) {
    for (const auto& line : Split(q.out, '\n')) {
      auto f = Split(line, '|');
      if (f.size() < 4) continue;
      // %A is the job id, %K the array task (N/A outside arrays), %i "ARRAY_TASK" or the id.
      std::string job = f[2].substr(0, f[2].find('_'));
      std::string task = f[2].find('_') == std::string::npos ? "" : f[2].substr(f[2].find('_') + 1);
      note(job, task, f[3]);
    }
  }
  return states;
}

bool Active(const std::string& state) {
  return StartsWith(state, "PENDING") || StartsWith(state, "RUNNING") ||
         StartsWith(state, "CONFIGURING") || StartsWith(state, "COMPLETING") ||
         StartsWith(state, "SUSPENDED") || StartsWith(state, "REQUEUED");
}

std::string Absolute(const std::string& path) { return fs::absolute(path).lexically_normal().string(); }

struct SubmitOptions {
  std::string file, out, partition, account, time, python;
  std::vector<std::string> filters;
  int shards = 0, gpus_per_task = -1, array_parallelism = -1;
  bool dry_run = false;
};

run::SlurmSweep SweepOf(const Submission& sub, const plan::Experiment& e, const SubmitOptions& o,
                        const std::string& dir) {
  run::SlurmSweep s;
  s.name = sub.name;
  s.dlbench = Absolute(ExecutableDir() + "/dlbench");
  s.experiment = sub.experiment;
  s.dir = dir;
  s.sweep_id = sub.sweep_id;
  s.shards = sub.shards;
  for (const auto& f : o.filters) s.run_args.insert(s.run_args.end(), {"--filter", f});
  if (!o.python.empty()) s.run_args.insert(s.run_args.end(), {"--python", Absolute(o.python)});
  s.partition = o.partition.empty() ? e.slurm.partition : o.partition;
  s.account = o.account.empty() ? e.slurm.account : o.account;
  s.time = o.time.empty() ? e.slurm.time : o.time;
  s.gpus_per_task = o.gpus_per_task >= 0 ? o.gpus_per_task : e.slurm.gpus_per_task;
  s.array_parallelism = sub.array_parallelism;
  s.sbatch = e.slurm.sbatch;
  return s;
}

// A job name and sweep id from the experiment's name: letters, digits, '.', '_', '-'.
std::string SafeName(const std::string& name) {
  std::string out;
  for (char c : name) {
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ? c : '-';
  }
  return out.substr(0, 40).empty() ? "sweep" : out.substr(0, 40);
}

ExitCode SubmitCommand(const SubmitOptions& o) {
  // Checked here, before anything is submitted, against what the workers report on this host.
  LaunchChoice launch = ChooseLaunch(o.python);
  run::WorkerCapabilityCache capabilities(launch.launch);
  plan::Experiment e = plan::ParseExperimentFile(o.file, capabilities);
  std::vector<plan::Filter> filters;
  for (const auto& f : o.filters) filters.push_back(plan::ParseFilter(f));
  plan::Plan plan = plan::Expand(e, filters);
  std::set<std::string> groups;
  for (const auto& c : plan.cells) {
    groups.insert(analysis::KeyWithout(analysis::Coordinates(c), e.compare_by));
  }
  Submission sub;
  sub.name = SafeName(e.name);
  sub.sweep_id = sub.name + "-" + store::NewUuid().substr(0, 8);
  sub.shards = o.shards > 0 ? o.shards : static_cast<int>(std::min<size_t>(groups.size(), 4096));
  if (sub.shards > 4096) throw UserError(fmt::format("--shards {}: allowed 1 to 4096", o.shards));
  sub.array_parallelism = o.array_parallelism >= 0 ? o.array_parallelism : e.slurm.array_parallelism;
  const std::string dir = Absolute(o.out.empty() ? "dlbench-slurm/" + sub.sweep_id : o.out);
  std::error_code ec;
  if (fs::exists(SubmissionPath(dir), ec)) {
    throw UserError(fmt::format("--out {}: already holds a sweep (submission.json); resume it with "
                                "`dlbench slurm resume {}`, or give another --out",
                                dir, dir));
  }
  fs::create_directories(dir + "/shards", ec);
  if (!ec) fs::create_directories(dir + "/logs", ec);
  if (ec) throw EnvError(fmt::format("cannot create {}: {}", dir, ec.message()));
  sub.experiment = dir + "/experiment.toml";
  WriteFileAtomically(sub.experiment, e.source_text);  // the sweep runs its own copy
  run::SlurmSweep sweep = SweepOf(sub, e, o, dir);
  WriteFileAtomically(dir + "/shards.sbatch", run::ArrayScript(sweep));
  WriteFileAtomically(dir + "/merge.sbatch", run::MergeScript(sweep));
  if (sub.shards > static_cast<int>(groups.size())) {
    PrintWarning(fmt::format("{} shards for {} groups of compared cells: {} shards will have nothing "
                             "to run",
                             sub.shards, groups.size(), sub.shards - static_cast<int>(groups.size())));
  }
  if (o.dry_run) {
    Save(dir, sub);
    std::printf("wrote %s/shards.sbatch and %s/merge.sbatch (sweep %s, %d shards); not submitted\n",
                dir.c_str(), dir.c_str(), sub.sweep_id.c_str(), sub.shards);
    return ExitCode::kDone;
  }
  const std::string array = Submit({"sbatch", "--parsable", dir + "/shards.sbatch"});
  sub.array_jobs.push_back(array);
  Save(dir, sub);
  const std::string merge =
      Submit({"sbatch", "--parsable", "--dependency=afterany:" + array, dir + "/merge.sbatch"});
  sub.merge_jobs.push_back(merge);
  Save(dir, sub);
  std::printf("sweep %s: %d shards as array job %s, merge job %s after it\n"
              "results: %s; watch: dlbench slurm status %s\n",
              sub.sweep_id.c_str(), sub.shards, array.c_str(), merge.c_str(),
              run::MergedDbPath(dir).c_str(), dir.c_str());
  return ExitCode::kDone;
}

ExitCode StatusCommand(const std::string& dir_arg) {
  const std::string dir = Absolute(dir_arg);
  Submission sub = Load(dir);
  auto queue = QueueStates(sub);
  report::TextTable t({"shard", "slurm", "database", "repetitions"}, {true, false, false, true});
  int complete = 0;
  for (int i = 0; i < sub.shards; ++i) {
    ShardState st = ReadShard(dir, sub, i);
    complete += st.complete;
    auto q = queue.find(fmt::format("shard {}", i));
    std::string slurm = q != queue.end() ? q->second : "-";
    t.AddRow({std::to_string(i), slurm, st.status, std::to_string(st.repetitions)});
  }
  std::printf("sweep %s (%s): %d of %d shards complete\n", sub.sweep_id.c_str(), dir.c_str(),
              complete, sub.shards);
  std::fputs(t.Render().c_str(), stdout);
  auto m = queue.find("merge");
  std::error_code ec;
  std::printf("merge job %s: %s; %s\n", sub.merge_jobs.empty() ? "-" : sub.merge_jobs.back().c_str(),
              m != queue.end() ? m->second.c_str() : "-",
              fs::is_regular_file(run::MergedDbPath(dir), ec) ? (run::MergedDbPath(dir) + " exists").c_str()
                                                              : "no merged.db yet");
  return ExitCode::kDone;
}

ExitCode ResumeCommand(const std::string& dir_arg) {
  const std::string dir = Absolute(dir_arg);
  Submission sub = Load(dir);
  auto queue = QueueStates(sub);
  std::vector<std::string> active;
  for (const auto& [what, state] : queue) {
    if (Active(state)) active.push_back(what + " " + state);
  }
  if (!active.empty()) {
    throw UserError(fmt::format("sweep {} still has jobs in the queue ({}); wait for them, or scancel "
                                "them, then resume",
                                sub.sweep_id, Join(active, ", ")));
  }
  std::vector<int> rerun;
  for (int i = 0; i < sub.shards; ++i) {
    if (!ReadShard(dir, sub, i).complete) rerun.push_back(i);
  }
  std::string after;
  if (!rerun.empty()) {
    const std::string array = Submit({"sbatch", "--parsable", "--array=" +
                                      run::ArraySpec(rerun, sub.array_parallelism),
                                      dir + "/shards.sbatch"});
    sub.array_jobs.push_back(array);
    Save(dir, sub);
    after = "--dependency=afterany:" + array;
    std::vector<std::string> names;
    for (int i : rerun) names.push_back(std::to_string(i));
    std::printf("resubmitted shard(s) %s as array job %s\n", Join(names, ", ").c_str(), array.c_str());
  } else {
    std::printf("all %d shards are complete\n", sub.shards);
  }
  std::vector<std::string> argv = {"sbatch", "--parsable"};
  if (!after.empty()) argv.push_back(after);
  argv.push_back(dir + "/merge.sbatch");
  const std::string merge = Submit(argv);
  sub.merge_jobs.push_back(merge);
  Save(dir, sub);
  std::printf("merge job %s%s\n", merge.c_str(), after.empty() ? "" : " after them");
  return ExitCode::kDone;
}

}  // namespace

void AddSlurmCommand(CLI::App& app, ExitCode& result) {
  auto* cmd = app.add_subcommand("slurm", "Run an experiment as a Slurm job array of shards, and merge them");
  cmd->require_subcommand(1);
  auto o = std::make_shared<SubmitOptions>();
  auto* submit = cmd->add_subcommand(
      "submit", "Write the sweep's job scripts and submit them: one array task per shard, then a merge");
  submit->add_option("FILE", o->file, "experiment file (TOML); its [slurm] table gives defaults")->required();
  submit->add_option("--shards", o->shards, "number of shards (default: one per group of compared cells)");
  submit->add_option("--out", o->out, "the sweep's directory on storage every node sees (default: dlbench-slurm/SWEEP)");
  submit->add_option("--partition", o->partition, "Slurm partition");
  submit->add_option("--gpus-per-task", o->gpus_per_task, "GPUs for each shard")->check(CLI::Range(0, 64));
  submit->add_option("--time", o->time, "time limit per shard, as Slurm reads it (e.g. 02:00:00)");
  submit->add_option("--array-parallelism", o->array_parallelism, "at most this many shards at once")
      ->check(CLI::Range(0, 100000));
  submit->add_option("--account", o->account, "Slurm account to charge");
  submit->add_option("--filter", o->filters, "as dlbench run --filter");
  submit->add_option("--python", o->python, "as dlbench run --python (a path every node sees)");
  submit->add_flag("--dry-run", o->dry_run, "write the scripts, submit nothing");
  submit->callback([o, &result] { result = SubmitCommand(*o); });
  auto dir = std::make_shared<std::string>();
  auto* status = cmd->add_subcommand("status", "Each shard's state in Slurm and in its database");
  status->add_option("DIR", *dir, "the sweep's directory")->required();
  status->callback([dir, &result] { result = StatusCommand(*dir); });
  auto* resume = cmd->add_subcommand("resume", "Resubmit the shards that did not complete, and the merge");
  resume->add_option("DIR", *dir, "the sweep's directory")->required();
  resume->callback([dir, &result] { result = ResumeCommand(*dir); });
}

}  // namespace dlb::cli
