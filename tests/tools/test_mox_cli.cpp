// The `mox` program as a user runs it: killed mid-training and restarted it resumes from the
// last checkpoint; PREDICT writes a CSV; bad flags and a missing dataset give clear errors.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "nn/run/run.h"
#include "tests/support/check.h"

namespace mox::test {
namespace fs = std::filesystem;
namespace {

const std::string kMox = std::string(MOX_BIN_DIR) + "/mox";

Run run_mox(const std::string& args) { return run_command(kMox + " " + args); }

std::string temp_dir(const std::string& name) {
  std::string d = (fs::temp_directory_path() / ("mox_cli_" + name)).string();
  fs::remove_all(d);
  return d;
}

const std::string kQuick = "--model=softmax_regression --optimizer=sgd --learning_rate=0.1 --batch_size=100 ";

}  // namespace

TEST_CASE("mox train: killed with SIGKILL mid-run, a restart resumes from the last checkpoint") {
  std::string dir = temp_dir("resume");
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    std::string url = "--train_url=" + dir;
    execl(kMox.c_str(), "mox", "train", "--model=softmax_regression", "--optimizer=sgd", "--learning_rate=0.1",
          "--batch_size=100", "--log_every_n_steps=1", "--save_model_steps=10", "--max_number_of_steps=100000",
          "--threads=1", url.c_str(), (char*)nullptr);
    _exit(127);
  }
  close(fds[1]);
  FILE* out = fdopen(fds[0], "r");
  char line[1024];
  bool reached = false;
  while (fgets(line, sizeof line, out)) {
    if (std::string(line).find("(global step: 35)") != std::string::npos) {
      reached = true;
      break;
    }
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  fclose(out);
  REQUIRE(reached);
  CHECK(WIFSIGNALED(status));
  std::string ckpt = latest_checkpoint(dir);
  CHECK(ckpt == dir + "/model.ckpt-30.safetensors");

  Run again = run_mox("train " + kQuick + "--log_every_n_steps=1 --save_model_steps=10 --max_number_of_steps=45 "
                         "--train_url=" + dir);
  CHECK(again.status == 0);
  CHECK_MESSAGE(again.output.find("step: 0(global step: 31)") != std::string::npos, again.output);
  CHECK(again.output.find("global step 45") != std::string::npos);
  CHECK(latest_checkpoint(dir) == dir + "/model.ckpt-45.safetensors");
  fs::remove_all(dir);
}

TEST_CASE("mox predict writes one CSV row per test image") {
  std::string dir = temp_dir("predict");
  REQUIRE(run_mox("train " + kQuick + "--max_number_of_steps=20 --train_url=" + dir).status == 0);
  Run p = run_mox("predict --model=softmax_regression --train_url=" + dir);
  CHECK_MESSAGE(p.status == 0, p.output);
  std::ifstream csv(dir + "/predictions.csv");
  std::string header, row;
  std::getline(csv, header);
  CHECK(header == "index,label,truth");
  int rows = 0;
  while (std::getline(csv, row)) ++rows;
  CHECK(rows == 10000);
  fs::remove_all(dir);
}

TEST_CASE("mox: clear errors for bad flags and a missing dataset") {
  Run missing = run_mox("train --data_url=/nonexistent/fashion --train_url=" + temp_dir("missing"));
  CHECK(missing.status == 1);
  CHECK_MESSAGE(missing.output.find("/nonexistent/fashion/train-images-idx3-ubyte.gz") != std::string::npos, missing.output);

  Run gpus = run_mox("train --num_gpus=2");
  CHECK(gpus.status == 1);
  CHECK_MESSAGE(gpus.output.find("--num_gpus=2") != std::string::npos, gpus.output);

  Run unknown = run_mox("train --bogus=1");
  CHECK(unknown.status == 1);
  CHECK(unknown.output.find("unknown flag --bogus") != std::string::npos);

  Run bad_value = run_mox("train --batch_size=many");
  CHECK(bad_value.status == 1);
  CHECK(bad_value.output.find("--batch_size expects integer") != std::string::npos);

  Run zero = run_mox("train --batch_size=0");
  CHECK(zero.status == 1);
  CHECK(zero.output.find("--batch_size must be positive") != std::string::npos);

  Run optimizer = run_mox("train --optimizer=adamw");
  CHECK(optimizer.status == 1);
  CHECK(optimizer.output.find("unsupported optimizer name 'adamw'") != std::string::npos);

  Run help = run_mox("train --help");
  CHECK(help.status == 0);
  CHECK(help.output.find("--data_url") != std::string::npos);
  CHECK(run_mox("").status == 2);
}

}  // namespace mox::test
