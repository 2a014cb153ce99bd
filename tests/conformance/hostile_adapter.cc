// hostile_adapter: an adapter that misbehaves on purpose, one way per mode,
// for netconform's tests of its limits (docs/ADAPTER.md, Limits). It answers
// `{"id": N, "ok": true}` to each request unless its mode says otherwise.
//
//   trickle            on the first request: one byte every 10 ms, no newline, forever
//   flood              on the first request: bytes without a newline as fast as it can
//   longline BYTES     each reply padded to BYTES, written 16 bytes at a time
//   stderr MIB         before each reply, MIB MiB to stderr; exits 3 at end of input
//   stray              each reply followed at once by a second line
//   late-stray         each reply followed 200 ms later by a line nobody asked for
//   wrong-id           replies carry the id plus one
//   grandchild FILE    forks a grandchild that sleeps 300 s (its pid in FILE), then
//                      answers as usual
//   hang-grandchild FILE  the same, then hangs on the first request
//   yes                answers {"id": N, "ok": true} to everything, unknown ops included
//                      (netconform selftest must catch it)
//   bad-capabilities   as yes, but hello declares protocol 3 with malformed capabilities
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

namespace {

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n <= 0) std::exit(1);
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void Write(int fd, const std::string& s) { WriteAll(fd, s.data(), s.size()); }

// The request's id as netconform writes it: {"id":N,...} (keys sorted).
std::string IdOf(const std::string& line) {
  const size_t at = line.find("\"id\":");
  if (at == std::string::npos) return "null";
  size_t end = at + 5;
  while (end < line.size() && (std::isdigit(static_cast<unsigned char>(line[end])) != 0)) ++end;
  return line.substr(at + 5, end - at - 5);
}

std::string Reply(const std::string& id) { return "{\"id\":" + id + ",\"ok\":true}\n"; }

// A process that outlives the adapter unless its process group is killed.
void ForkGrandchild(const char* pid_file) {
  int p[2];
  if (::pipe(p) != 0) std::exit(1);
  const pid_t child = ::fork();
  if (child == 0) {
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
      ::close(p[0]);
      ::close(p[1]);
      for (int fd = 0; fd < 3; ++fd) ::close(fd);  // holds none of netconform's pipes
      ::execl("/bin/sleep", "sleep", "300", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const std::string pid = std::to_string(grandchild) + "\n";
    WriteAll(p[1], pid.data(), pid.size());
    ::_exit(0);
  }
  ::close(p[1]);
  char buf[32] = {};
  const ssize_t n = ::read(p[0], buf, sizeof buf - 1);
  ::close(p[0]);
  ::waitpid(child, nullptr, 0);
  std::ofstream(pid_file) << std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    std::cerr << "usage: hostile_adapter MODE [ARG]\n";
    return 2;
  }
  const std::string mode = argv[1];
  const char* arg = argc > 2 ? argv[2] : "";
  if (mode == "grandchild" || mode == "hang-grandchild") ForkGrandchild(arg);

  std::string line;
  int exit_status = 0;
  while (std::getline(std::cin, line)) {
    const std::string id = IdOf(line);
    if (mode == "trickle") {
      while (true) {
        Write(1, "x");
        ::usleep(10000);
      }
    } else if (mode == "flood") {
      const std::string chunk(65536, 'x');
      while (true) Write(1, chunk);
    } else if (mode == "longline") {
      const size_t size = std::strtoul(arg, nullptr, 10);
      std::string reply = "{\"id\":" + id + ",\"ok\":true,\"pad\":\"";
      reply += std::string(size > reply.size() + 3 ? size - reply.size() - 3 : 0, 'p') + "\"}\n";
      for (size_t off = 0; off < reply.size(); off += 16) {
        WriteAll(1, reply.data() + off, std::min<size_t>(16, reply.size() - off));
      }
    } else if (mode == "stderr") {
      const std::string chunk(1 << 20, 'e');
      for (long i = 0; i < std::strtol(arg, nullptr, 10); ++i) Write(2, chunk);
      Write(2, "\nthe end of stderr\n");
      Write(1, Reply(id));
      exit_status = 3;
    } else if (mode == "stderr-controls") {
      // Dies before its first reply, leaving a terminal escape (a window
      // title), a bell and a workflow command on stderr for netconform to quote.
      Write(2, "\x1b]0;owned\x07\n::error::adapter says hi\n");
      return 1;
    } else if (mode == "stray") {
      Write(1, Reply(id) + Reply(id));
    } else if (mode == "late-stray") {
      Write(1, Reply(id));
      ::usleep(200000);
      Write(1, "{\"ok\":true,\"note\":\"nobody asked\"}\n");
    } else if (mode == "wrong-id") {
      Write(1, Reply(std::to_string(std::atoll(id.c_str()) + 1)));
    } else if (mode == "hang-grandchild") {
      ::pause();
    } else if (mode == "bad-capabilities" && line.find("\"op\":\"hello\"") != std::string::npos) {
      Write(1, "{\"id\":" + id +
                   ",\"ok\":true,\"impl\":\"hostile\",\"version\":\"0\",\"protocol\":3,"
                   "\"platform\":\"linux\",\"spec\":[],\"features\":[],"
                   "\"capabilities\":{\"ops\":\"everything\"}}\n");
    } else {
      Write(1, Reply(id));
    }
  }
  return exit_status;
}
