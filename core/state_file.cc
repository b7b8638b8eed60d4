#include "core/state_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "core/labels.h"

namespace nines::core {
namespace {

std::string ParentDir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status ErrnoError(std::string_view what, const std::string& path, int err) {
  return UnavailableError("{} {}: {}", what, path, std::strerror(err));
}

}  // namespace

Status SyncParentDir(const std::string& path) {
  const std::string dir = ParentDir(path);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return ErrnoError("opening directory", dir, errno);
  int rc = ::fsync(dfd);
  int err = errno;
  ::close(dfd);
  if (rc != 0) return ErrnoError("syncing directory", dir, err);
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, std::string_view contents, bool sync) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("creating", tmp, errno);
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return ErrnoError("writing", tmp, err);
    }
    done += static_cast<size_t>(n);
  }
  if (sync && ::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return ErrnoError("syncing", tmp, err);
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoError("closing", tmp, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoError("renaming " + tmp + " to", path, err);
  }
  // The rename is durable only once the directory entry is.
  return sync ? SyncParentDir(path) : Status::Ok();
}

Result<std::optional<std::string>> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return ErrnoError("opening", path, errno);
  }
  std::string data;
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoError("reading", path, err);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return std::optional<std::string>(std::move(data));
}

Status SetAside(const std::string& path, const Status& why) {
  const std::string aside = path + ".corrupt";
  if (::rename(path.c_str(), aside.c_str()) != 0) {
    return why.WithContext(
        fmt::format("(could not move it to {}: {})", aside, std::strerror(errno)));
  }
  return Status(why.code(), fmt::format("{} (moved to {})", why.message(), aside));
}

void AppendField(std::string* out, std::string_view field) {
  for (char c : field) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

void AppendTabField(std::string* out, std::string_view field) {
  out->push_back('\t');
  AppendField(out, field);
}

bool UnescapeField(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out->push_back(in[i]);
      continue;
    }
    if (++i == in.size()) return false;
    switch (in[i]) {
      case '\\':
        out->push_back('\\');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'n':
        out->push_back('\n');
        break;
      default:
        return false;
    }
  }
  return true;
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t tab = line.find('\t', start);
    if (tab == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
}

bool ParseInt64(std::string_view s, int64_t* v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseUint64(std::string_view s, uint64_t* v, int base) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v, base);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string EncodeSnapshot(std::string_view magic, int version,
                           const std::vector<std::string>& records) {
  std::string out = fmt::format("{}\t{}\n", magic, version);
  for (const std::string& r : records) {
    out += r;
    out.push_back('\n');
  }
  const uint64_t checksum = Hash64(out);
  fmt::format_to(std::back_inserter(out), "end\t{}\t{:016x}\n", records.size(), checksum);
  return out;
}

Result<SnapshotRecords> DecodeSnapshot(std::string_view data, std::string_view magic,
                                       int max_version, std::string_view origin) {
  if (data.empty()) return DataLossError("{}: empty file (truncated)", origin);
  size_t first_nl = data.find('\n');
  if (first_nl == std::string_view::npos) return DataLossError("{}:1: truncated header", origin);
  std::vector<std::string_view> header = SplitFields(data.substr(0, first_nl));
  int64_t version = 0;
  if (header.size() != 2 || header[0] != magic || !ParseInt64(header[1], &version) || version < 1) {
    return DataLossError("{}:1: not a {} file (expected \"{}\\t{}\")", origin, magic, magic,
                         max_version);
  }
  if (version > max_version) {
    return FailedPreconditionError("{}: {} version {} is newer than this build's {}", origin, magic,
                                   version, max_version);
  }
  if (data.back() != '\n') {
    return DataLossError("{}: truncated: the last line is incomplete", origin);
  }
  size_t end_start = data.rfind('\n', data.size() - 2);
  end_start = end_start == std::string_view::npos ? 0 : end_start + 1;
  std::vector<std::string_view> end =
      SplitFields(data.substr(end_start, data.size() - 1 - end_start));
  uint64_t count = 0;
  uint64_t checksum = 0;
  if (end_start <= first_nl || end.size() != 3 || end[0] != "end" || !ParseUint64(end[1], &count) ||
      !ParseUint64(end[2], &checksum, 16)) {
    return DataLossError("{}: truncated: no end record", origin);
  }
  if (Hash64(data.substr(0, end_start)) != checksum) {
    return DataLossError("{}: checksum mismatch (the file is corrupt)", origin);
  }
  SnapshotRecords out;
  out.version = static_cast<int>(version);
  size_t pos = first_nl + 1;
  while (pos < end_start) {
    size_t nl = data.find('\n', pos);
    out.records.push_back(data.substr(pos, nl - pos));
    pos = nl + 1;
  }
  if (out.records.size() != count) {
    return DataLossError("{}: the end record counts {} records, the file has {}", origin, count,
                         out.records.size());
  }
  return out;
}

std::string SealRecord(std::string_view record) {
  std::string out(record);
  fmt::format_to(std::back_inserter(out), "\t{:016x}\n", Hash64(record));
  return out;
}

std::optional<std::string_view> OpenRecord(std::string_view line) {
  size_t tab = line.rfind('\t');
  if (tab == std::string_view::npos || line.size() - tab - 1 != 16) return std::nullopt;
  uint64_t checksum = 0;
  if (!ParseUint64(line.substr(tab + 1), &checksum, 16)) return std::nullopt;
  std::string_view record = line.substr(0, tab);
  if (Hash64(record) != checksum) return std::nullopt;
  return record;
}

}  // namespace nines::core
