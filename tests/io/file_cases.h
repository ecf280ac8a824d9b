// Behaviour every mox::file backend must share, written once and run on a local directory
// (tests/io/test_file_local.cpp) and on an S3 prefix (tests/s3/test_s3_file.cpp).
#pragma once
#include <string>

#include "io/file/file.h"
#include "tests/support/check.h"

namespace mox::test {

// File objects: every mode, reads by size and by line, seek/tell, size, append, mode errors.
inline void check_file_modes(const std::string& root) {
  namespace f = mox::file;
  std::string p = root + "/modes.txt";
  {
    f::File w(p, "w");
    w.write("line one\nline two\n");
    w.writelines({"three\n", "four"});
    CHECK(w.tell() == 28);
    w.close();
    CHECK(w.closed());
  }
  CHECK(f::read(p) == "line one\nline two\nthree\nfour");
  {
    f::File r(p, "r");
    CHECK(r.size() == 28);
    CHECK(r.readline() == "line one\n");
    CHECK(r.read(4) == "line");
    CHECK(r.tell() == 13);
    CHECK(r.readline(3) == " tw");
    CHECK(r.readlines() == std::vector<std::string>{"o\n", "three\n", "four"});
    CHECK(r.read() == "");
    r.seek(-4, 2);
    CHECK(r.read() == "four");
    r.seek(5);
    r.seek(9, 1);
    CHECK(r.read(3) == "two");
    r.seek(0);
    CHECK(r.next() == std::optional<std::string>("line one\n"));
    CHECK_FALSE(r.writable());
    mentions(thrown<f::MoxFileException>([&] { r.write("x"); }), {p.c_str(), "not for writing"});
  }
  f::append(p, "\nfive");
  CHECK(f::read(p) == "line one\nline two\nthree\nfour\nfive");
  {
    f::File rw(p, "r+b");
    rw.seek(5);
    rw.write("ONE");
    rw.seek(0);
    CHECK(rw.read(9) == "line ONE\n");
    rw.close();
  }
  CHECK(f::read(p).substr(0, 9) == "line ONE\n");
  {
    f::File a(p, "a+");
    a.write("!");
    a.seek(0);
    CHECK(a.read(4) == "line");
    a.close();
  }
  CHECK(f::read(p).back() == '!');
  {
    f::File wp(p, "w+");  // truncates
    wp.write("abc");
    wp.seek(1);
    CHECK(wp.read() == "bc");
    CHECK(wp.size() == 3);
  }
  CHECK(f::read(p) == "abc");
  std::string fresh = root + "/fresh.bin";
  f::append(fresh, std::string("\0\1\2", 3), true);
  CHECK(f::read(fresh, true) == std::string("\0\1\2", 3));
  f::write(fresh, "");
  CHECK(f::get_size(fresh) == 0);
  mentions(thrown<f::MoxFileException>([&] { f::File(p, "rw"); }), {"invalid mode", "rw"});
  std::string missing = root + "/missing.txt";
  mentions(thrown<f::MoxFileNotExistsException>([&] { f::File(missing, "r"); }), {missing.c_str()});
  mentions(thrown<f::MoxFileNotExistsException>([&] { f::read(missing); }), {missing.c_str()});
  mentions(thrown<f::MoxFileNotExistsException>([&] { f::File(missing, "r+"); }), {missing.c_str()});
}

// A tree: root/t/{a.txt, b.jpg, sub/{c.jpg, deep/d.txt}, empty/}
inline void make_tree(const std::string& root) {
  namespace f = mox::file;
  f::make_dirs(root + "/t/sub/deep");
  f::make_dirs(root + "/t/empty");
  f::write(root + "/t/a.txt", "aaaa");
  f::write(root + "/t/b.jpg", "bb");
  f::write(root + "/t/sub/c.jpg", "ccc");
  f::write(root + "/t/sub/deep/d.txt", "d");
}

inline void check_listing(const std::string& root) {
  namespace f = mox::file;
  make_tree(root);
  std::string t = root + "/t";
  using V = std::vector<std::string>;
  CHECK(f::list_directory(t) == V{"a.txt", "b.jpg", "empty", "sub"});
  CHECK(f::list_directory(t, true) ==
        V{"a.txt", "b.jpg", "empty", "sub", "sub/c.jpg", "sub/deep", "sub/deep/d.txt"});
  CHECK(f::list_directory(t, true, true) == V{"empty", "sub", "sub/deep"});
  CHECK(f::list_directory(t, true, false, true) == V{"a.txt", "b.jpg", "sub/c.jpg", "sub/deep/d.txt"});
  CHECK(f::glob(t + "/*.jpg") == V{t + "/b.jpg"});
  CHECK(f::glob(t + "/*/*.jpg") == V{t + "/sub/c.jpg"});
  CHECK(f::glob(t + "/s?b/deep/[a-d].txt") == V{t + "/sub/deep/d.txt"});
  CHECK(f::glob(t + "/nothing*").empty());
  CHECK(f::exists(t + "/a.txt"));
  CHECK(f::exists(t + "/sub"));
  CHECK(f::exists(t + "/empty"));
  CHECK_FALSE(f::exists(t + "/nope"));
  CHECK(f::is_directory(t + "/sub"));
  CHECK(f::is_directory(t + "/sub/"));
  CHECK_FALSE(f::is_directory(t + "/a.txt"));
  CHECK(f::get_size(t + "/a.txt") == 4);
  CHECK(f::get_size(t, true) == 10);
  f::Stat s = f::stat(t + "/a.txt");
  CHECK(s.length == 4);
  CHECK_FALSE(s.is_directory);
  CHECK(s.mtime_nsec > 1600000000LL * 1000000000);
  CHECK(f::stat(t + "/sub").is_directory);
  std::string nope = t + "/nope";
  mentions(thrown<f::MoxFileNotExistsException>([&] { f::stat(nope); }), {nope.c_str()});
  mentions(thrown<f::MoxFileNotExistsException>([&] { f::list_directory(nope); }), {nope.c_str()});

  std::vector<f::DirEntry> entries = f::scan_dir(t + "/sub");
  REQUIRE(entries.size() == 2);
  std::sort(entries.begin(), entries.end(), [](auto& a, auto& b) { return a.name < b.name; });
  CHECK(entries[0].name == "c.jpg");
  CHECK(entries[0].is_file());
  CHECK(entries[0].size == 3);
  CHECK(entries[0].path == t + "/sub/c.jpg");
  CHECK(entries[1].name == "deep");
  CHECK(entries[1].is_dir);

  std::vector<f::WalkEntry> w = f::walk(t);
  REQUIRE(w.size() == 4);
  CHECK(w[0].top == t);
  CHECK(w[0].dirs == V{"empty", "sub"});
  CHECK(w[0].files == V{"a.txt", "b.jpg"});
  CHECK(w[1].top == t + "/empty");
  CHECK(w[2].top == t + "/sub");
  CHECK(w[2].files == V{"c.jpg"});
  CHECK(w[3].top == t + "/sub/deep");
  CHECK(f::walk(t, false).front().top == t + "/sub/deep");

  std::string m = root + "/m";
  mentions(thrown<f::MoxFileNotExistsException>([&] { f::mk_dir(m + "/x/y"); }), {(m + "/x/y").c_str()});
  f::mk_dir(m);
  f::mk_dir(m + "/x");
  CHECK(f::is_directory(m + "/x"));
}

// The manual's remove table, row by row.
inline void check_remove_table(const std::string& root) {
  namespace f = mox::file;
  std::string file = root + "/r/file_name", dir = root + "/r/dir_name";
  f::make_dirs(root + "/r");
  auto reset = [&] {
    f::write(file, "x");
    f::make_dirs(dir + "/in");
    f::write(dir + "/in/y", "y");
  };
  reset();
  CHECK_FALSE(f::remove(file + "/"));        // file + '/': nothing
  CHECK_FALSE(f::remove(file + "/", true));  // ... either way
  CHECK(f::exists(file));
  CHECK_FALSE(f::remove(dir));               // directory, not recursive: nothing
  CHECK_FALSE(f::remove(dir + "/"));
  CHECK(f::exists(dir + "/in/y"));
  CHECK(f::remove(file));                    // file: removed
  CHECK_FALSE(f::exists(file));
  reset();
  CHECK(f::remove(file, true));              // file, recursive: only that file
  CHECK_FALSE(f::exists(file));
  CHECK(f::exists(dir + "/in/y"));
  CHECK(f::remove(dir, true));               // directory, recursive: all of it
  CHECK_FALSE(f::exists(dir));
  reset();
  CHECK(f::remove(dir + "/", true));         // directory + '/', recursive: all of it
  CHECK_FALSE(f::exists(dir));
  std::string nothing = root + "/r/nothing";
  mentions(thrown<f::MoxFileNotExistsException>([&] { f::remove(nothing); }), {nothing.c_str()});
}

// copy, rename and copy_parallel within the backend of root and to/from local_dir.
inline void check_copies(const std::string& root, const std::string& local_dir) {
  namespace f = mox::file;
  make_tree(root);
  f::copy(root + "/t/a.txt", root + "/copy.txt");
  CHECK(f::read(root + "/copy.txt") == "aaaa");
  f::copy(root + "/t/a.txt", local_dir + "/down.txt");
  CHECK(f::read(local_dir + "/down.txt") == "aaaa");
  f::copy(local_dir + "/down.txt", root + "/up.txt");
  CHECK(f::read(root + "/up.txt") == "aaaa");
  mentions(thrown<f::MoxFileException>([&] { f::copy(root + "/t", root + "/t2"); }), {"copy_parallel"});

  f::copy_parallel(root + "/t", root + "/t_copy", {.threads = 3});
  CHECK(f::list_directory(root + "/t_copy", true, false, true) ==
        std::vector<std::string>{"a.txt", "b.jpg", "sub/c.jpg", "sub/deep/d.txt"});
  f::copy_parallel(root + "/t", local_dir + "/t_local", {.threads = 2});
  CHECK(f::read(local_dir + "/t_local/sub/deep/d.txt") == "d");
  f::copy_parallel(root + "/t", local_dir + "/t_some", {.threads = 2, .file_list = {"sub/c.jpg", "a.txt"}});
  CHECK(f::list_directory(local_dir + "/t_some", true, false, true) ==
        std::vector<std::string>{"a.txt", "sub/c.jpg"});

  f::rename(root + "/copy.txt", root + "/moved.txt");
  CHECK_FALSE(f::exists(root + "/copy.txt"));
  CHECK(f::read(root + "/moved.txt") == "aaaa");
  f::rename(root + "/t_copy", root + "/t_moved");
  CHECK_FALSE(f::exists(root + "/t_copy"));
  CHECK(f::read(root + "/t_moved/sub/c.jpg") == "ccc");
  f::append_remote(root + "/t/b.jpg", root + "/moved.txt");
  CHECK(f::read(root + "/moved.txt") == "aaaabb");
}

}  // namespace mox::test
