#include "tools/mox_file.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "io/file/file.h"

namespace mox::tools {
namespace {

std::string basename_of(const std::string& url) {
  std::string u = url;
  while (u.size() > 1 && u.back() == '/') u.pop_back();
  size_t slash = u.rfind('/');
  return slash == std::string::npos ? u : u.substr(slash + 1);
}

std::string time_str(int64_t nsec) {
  std::time_t t = std::time_t(nsec / 1000000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

}  // namespace

int file_main(const std::vector<std::string>& args) {
  CLI::App app{"mox file: list, copy, remove, print, inspect and create files on local paths and s3:// URLs.\n"
               "S3 settings come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION\n"
               "and AWS_ENDPOINT_URL (see README, \"Files and S3\").",
               "mox file"};
  app.require_subcommand(1);

  bool recursive = false, long_form = false, parents = false, as_json = false;
  int threads = 8;
  std::vector<std::string> urls;

  CLI::App* ls = app.add_subcommand("ls", "list a directory (or the matches of a glob pattern)");
  ls->add_flag("-r,--recursive", recursive, "everything below, as relative paths");
  ls->add_flag("-l,--long", long_form, "size, modification time and type of each entry");
  ls->add_option("url", urls, "directory or pattern")->required()->expected(1);

  CLI::App* cp = app.add_subcommand("cp", "copy a file, or a directory tree with -r");
  cp->add_flag("-r,--recursive", recursive, "copy the directory tree SRC into DST (copy_parallel)");
  cp->add_option("--threads", threads, "parallel copies with -r")->check(CLI::Range(1, 256));
  cp->add_option("src dst", urls, "source and destination")->required()->expected(2);

  CLI::App* rm = app.add_subcommand("rm", "remove files, or directories with -r (the manual's remove rules)");
  rm->add_flag("-r,--recursive", recursive, "remove directories and everything below");
  rm->add_option("url", urls, "what to remove")->required()->expected(1, 1 << 20);

  CLI::App* cat = app.add_subcommand("cat", "print files to standard output");
  cat->add_option("url", urls, "files to print")->required()->expected(1, 1 << 20);

  CLI::App* st = app.add_subcommand("stat", "size, modification time and type");
  st->add_flag("--json", as_json, "print one JSON object");
  st->add_option("url", urls, "file or directory")->required()->expected(1);

  CLI::App* mk = app.add_subcommand("mkdir", "create a directory (on S3: a 'dir/' marker, or a bucket)");
  mk->add_flag("-p,--parents", parents, "create missing parents too, and accept an existing directory");
  mk->add_option("url", urls, "directory to create")->required()->expected(1);

  std::vector<std::string> argv(args.rbegin(), args.rend());
  try {
    app.parse(argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  std::string sub = app.get_subcommands().front()->get_name();
  try {
    if (sub == "ls") {
      std::string url = urls[0];
      bool pattern = url.find_first_of("*?[") != std::string::npos;
      std::vector<std::string> names = pattern ? file::glob(url) : file::list_directory(url, recursive);
      for (const std::string& n : names) {
        if (!long_form) {
          std::cout << n << "\n";
          continue;
        }
        file::Stat s = file::stat(pattern ? n : url + (url.back() == '/' ? "" : "/") + n);
        std::printf("%-4s %12lld  %s  %s\n", s.is_directory ? "DIR" : "FILE", (long long)s.length,
                    s.mtime_nsec ? time_str(s.mtime_nsec).c_str() : "-------------------", n.c_str());
      }
    } else if (sub == "cp") {
      std::string src = urls[0], dst = urls[1];
      if (recursive) {
        file::copy_parallel(src, dst, {.threads = threads});
      } else {
        // Like cp: into a directory given with a trailing '/' or already there.
        if (dst.back() == '/' || (file::exists(dst) && file::is_directory(dst)))
          dst += (dst.back() == '/' ? "" : "/") + basename_of(src);
        file::copy(src, dst);
      }
    } else if (sub == "rm") {
      int status = 0;
      for (const std::string& url : urls) {
        if (!file::remove(url, recursive)) {
          std::cerr << "mox file rm: nothing removed at " << url
                    << (recursive ? " (a trailing '/' names no file)" : " (a directory needs -r)") << "\n";
          status = 1;
        }
      }
      return status;
    } else if (sub == "cat") {
      for (const std::string& url : urls) {
        file::File f(url, "rb");
        for (std::string chunk = f.read(1 << 20); !chunk.empty(); chunk = f.read(1 << 20))
          std::cout.write(chunk.data(), std::streamsize(chunk.size()));
      }
      std::cout.flush();
    } else if (sub == "stat") {
      file::Stat s = file::stat(urls[0]);
      if (as_json) {
        nlohmann::json j = {{"url", urls[0]}, {"length", s.length}, {"mtime_nsec", s.mtime_nsec},
                            {"is_directory", s.is_directory}};
        std::cout << j.dump() << "\n";
      } else {
        std::cout << "url:          " << urls[0] << "\nlength:       " << s.length
                  << "\nmtime:        " << (s.mtime_nsec ? time_str(s.mtime_nsec) + " UTC" : "-")
                  << "\nis_directory: " << (s.is_directory ? "true" : "false") << "\n";
      }
    } else if (sub == "mkdir") {
      if (parents) file::make_dirs(urls[0]);
      else file::mk_dir(urls[0]);
    }
  } catch (const std::exception& e) {
    std::cerr << "mox file " << sub << ": " << e.what() << std::endl;
    return 1;
  }
  return 0;
}

}  // namespace mox::tools
