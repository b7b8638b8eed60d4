#include "alerting/notification_log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "alerting/dispatcher.h"
#include "core/log.h"
#include "core/state_file.h"

namespace nines::alerting {
namespace {

constexpr std::string_view kMagic = "nines-nflog";
constexpr int kVersion = 1;
// The file is compacted once it holds this many lines more than twice the live entries.
constexpr size_t kCompactSlack = 1024;

std::string HeaderLine() { return core::SealRecord(fmt::format("{}\t{}", kMagic, kVersion)); }

void AppendFingerprints(std::string* out, const std::set<Fingerprint>& fps) {
  fmt::format_to(std::back_inserter(*out), "\t{}", fps.size());
  for (const Fingerprint& fp : fps) fmt::format_to(std::back_inserter(*out), "\t{}", fp.ToString());
}

bool ParseFingerprints(const std::vector<std::string_view>& f, size_t* i,
                       std::set<Fingerprint>* out) {
  uint64_t n = 0;
  if (*i >= f.size() || !core::ParseUint64(f[*i], &n) || n > f.size() - *i - 1) return false;
  ++*i;
  for (uint64_t k = 0; k < n; ++k, ++*i) {
    auto fp = Fingerprint::Parse(f[*i]);
    if (!fp.ok()) return false;
    out->insert(*fp);
  }
  return true;
}

core::Status ErrnoError(std::string_view what, const std::string& path, int err) {
  return core::UnavailableError("{} {}: {}", what, path, std::strerror(err));
}

}  // namespace

std::string EncodeNotificationLogLine(const NotificationLogKey& key,
                                      const NotificationLogEntry& entry) {
  std::string line = "entry";
  core::AppendTabField(&line, key.group_key);
  core::AppendTabField(&line, key.receiver);
  fmt::format_to(std::back_inserter(line), "\t{}\t{}\t{}", key.integration, entry.at.UnixNanos(),
                 entry.expires_at.UnixNanos());
  AppendFingerprints(&line, entry.firing);
  AppendFingerprints(&line, entry.resolved);
  return core::SealRecord(line);
}

core::Status DecodeNotificationLogLine(std::string_view line, NotificationLogKey* key,
                                       NotificationLogEntry* entry) {
  std::vector<std::string_view> f = core::SplitFields(line);
  if (f.size() < 8 || f[0] != "entry") return core::DataLossError("not an entry record");
  uint64_t integration = 0;
  int64_t at = 0;
  int64_t expires = 0;
  if (!core::UnescapeField(f[1], &key->group_key) || !core::UnescapeField(f[2], &key->receiver)) {
    return core::DataLossError("bad escape");
  }
  if (!core::ParseUint64(f[3], &integration) || !core::ParseInt64(f[4], &at) ||
      !core::ParseInt64(f[5], &expires)) {
    return core::DataLossError("bad number");
  }
  key->integration = integration;
  entry->at = core::Timestamp::FromUnixNanos(at);
  entry->expires_at = core::Timestamp::FromUnixNanos(expires);
  size_t i = 6;
  if (!ParseFingerprints(f, &i, &entry->firing) || !ParseFingerprints(f, &i, &entry->resolved) ||
      i != f.size()) {
    return core::DataLossError("bad fingerprint list");
  }
  return core::Status::Ok();
}

core::Status NotificationLog::Record(const Notification& n, core::Timestamp delivered_at) {
  NotificationLogEntry e;
  for (const Alert& a : n.alerts) {
    (a.status == AlertStatus::kFiring ? e.firing : e.resolved).insert(a.Fingerprint());
  }
  e.at = delivered_at;
  e.expires_at = delivered_at + n.repeat_interval * 2;
  return Put(NotificationLogKey{n.group_key, n.receiver, n.integration_index}, std::move(e));
}

// ---- MemoryNotificationLog -----------------------------------------------------------------

std::optional<NotificationLogEntry> MemoryNotificationLog::Get(
    const NotificationLogKey& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

core::Status MemoryNotificationLog::Put(const NotificationLogKey& key, NotificationLogEntry entry) {
  std::lock_guard lock(mu_);
  entries_[key] = std::move(entry);
  return core::Status::Ok();
}

core::Status MemoryNotificationLog::Collect(core::Timestamp now) {
  std::lock_guard lock(mu_);
  std::erase_if(entries_, [now](const auto& kv) { return kv.second.expires_at <= now; });
  return core::Status::Ok();
}

size_t MemoryNotificationLog::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

// ---- FileNotificationLog -------------------------------------------------------------------

FileNotificationLog::FileNotificationLog(std::string path, bool sync)
    : path_(std::move(path)), sync_(sync) {}

FileNotificationLog::~FileNotificationLog() {
  {
    std::lock_guard lock(file_mu_);
    stopping_ = true;
  }
  sync_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  if (fd_ >= 0) ::close(fd_);
}

int FileNotificationLog::DupForSyncLocked() {
  unsynced_ = false;
  if (fd_ < 0) return -1;
  // A dup: the fdatasync runs without file_mu_, and a compaction may close fd_ meanwhile (the
  // dup keeps the old file open; what was appended to it is in the compacted file, synced).
  return ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
}

void FileNotificationLog::SyncLoop() {
  std::unique_lock lock(file_mu_);
  while (true) {
    sync_cv_.wait(lock, [this] { return unsynced_ || stopping_; });
    if (unsynced_) {
      const int fd = DupForSyncLocked();
      lock.unlock();
      if (fd >= 0 && ::fdatasync(fd) != 0) {
        LOG_ERROR("notification log: syncing {}: {}", path_, std::strerror(errno));
      }
      if (fd >= 0) ::close(fd);
      lock.lock();
    }
    if (stopping_) return;
  }
}

core::Status FileNotificationLog::Sync() {
  if (!sync_) return core::Status::Ok();
  int fd = -1;
  {
    std::lock_guard lock(file_mu_);
    fd = DupForSyncLocked();
  }
  if (fd < 0) return core::Status::Ok();
  const int rc = ::fdatasync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("syncing", path_, err);
  return core::Status::Ok();
}

core::Result<std::unique_ptr<FileNotificationLog>> FileNotificationLog::Open(std::string path,
                                                                             bool sync,
                                                                             core::Timestamp now) {
  std::unique_ptr<FileNotificationLog> log(new FileNotificationLog(std::move(path), sync));
  ASSIGN_OR_RETURN(std::optional<std::string> data, core::ReadFile(log->path_));
  if (data) {
    std::string_view rest = *data;
    size_t line_no = 0;
    size_t bad = 0;
    std::string first_bad;
    while (!rest.empty()) {
      ++line_no;
      const size_t nl = rest.find('\n');
      const bool torn = nl == std::string_view::npos;
      std::string_view line = rest.substr(0, torn ? rest.size() : nl);
      rest.remove_prefix(torn ? rest.size() : nl + 1);
      std::optional<std::string_view> record = torn ? std::nullopt : core::OpenRecord(line);
      core::Status st = record ? core::Status::Ok() : core::DataLossError("checksum mismatch");
      if (st.ok() && line_no == 1) {
        std::vector<std::string_view> h = core::SplitFields(*record);
        int64_t version = 0;
        if (h.size() != 2 || h[0] != kMagic || !core::ParseInt64(h[1], &version)) {
          st = core::DataLossError("not a notification log (no \"{}\" header)", kMagic);
        } else if (version > kVersion) {
          return core::FailedPreconditionError(
              "{}: notification log version {} is newer than "
              "this build's {}",
              log->path_, version, kVersion);
        }
      } else if (st.ok()) {
        NotificationLogKey key;
        NotificationLogEntry entry;
        st = DecodeNotificationLogLine(*record, &key, &entry);
        if (st.ok()) log->entries_[std::move(key)] = std::move(entry);
      }
      if (!st.ok()) {
        if (bad++ == 0) first_bad = fmt::format("{}:{}: {}", log->path_, line_no, st.message());
      }
    }
    if (bad > 0) {
      core::Status why = core::DataLossError("{} ({} bad or torn line(s); {} entries kept)",
                                             first_bad, bad, log->entries_.size());
      LOG_ERROR("notification log: {}", core::SetAside(log->path_, why).message());
    }
  }
  std::erase_if(log->entries_, [now](const auto& kv) { return kv.second.expires_at <= now; });
  RETURN_IF_ERROR(log->Compact());
  if (sync) log->syncer_ = std::thread([raw = log.get()] { raw->SyncLoop(); });
  return log;
}

core::Status FileNotificationLog::Compact() {
  std::string contents = HeaderLine();
  size_t entries = 0;
  {
    std::lock_guard lock(file_mu_);
    if (compacting_) return core::Status::Ok();  // another call is at it
    compacting_ = true;
    pending_.clear();
    std::lock_guard entries_lock(mu_);
    for (const auto& [key, entry] : entries_) contents += EncodeNotificationLogLine(key, entry);
    entries = entries_.size();
  }
  // The rewrite and its fsyncs run without the locks: Puts meanwhile append to the old file and
  // to pending_, which goes to the new file before it replaces the old one.
  const std::string next = path_ + ".compacting";
  int fd = -1;
  core::Status st = core::WriteFileAtomic(next, contents, sync_);
  if (st.ok()) {
    fd = ::open(next.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) st = ErrnoError("opening", next, errno);
  }
  std::unique_lock lock(file_mu_);
  compacting_ = false;
  for (size_t i = 0; st.ok() && i < pending_.size(); ++i) st = WriteAll(fd, pending_[i], next);
  if (st.ok() && ::rename(next.c_str(), path_.c_str()) != 0) {
    st = ErrnoError("renaming into", path_, errno);
  }
  if (!st.ok()) {
    pending_.clear();
    if (fd >= 0) ::close(fd);
    return st;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  lines_ = entries + pending_.size();
  if (sync_ && !pending_.empty()) {
    unsynced_ = true;
    sync_cv_.notify_one();
  }
  pending_.clear();
  lock.unlock();
  return sync_ ? core::SyncParentDir(path_) : core::Status::Ok();
}

core::Status FileNotificationLog::WriteAll(int fd, std::string_view line,
                                           const std::string& path) {
  // One write(2) of the whole line: a process killed mid-call leaves it whole or absent; a
  // power loss may tear it, which the checksum detects.
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("appending to", path, errno);
    }
    done += static_cast<size_t>(n);
  }
  return core::Status::Ok();
}

std::optional<NotificationLogEntry> FileNotificationLog::Get(const NotificationLogKey& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

core::Status FileNotificationLog::Put(const NotificationLogKey& key, NotificationLogEntry entry) {
  std::string line = EncodeNotificationLogLine(key, entry);
  // file_mu_ first, so that the file's order of lines is the order of the entries set.
  std::lock_guard lock(file_mu_);
  {
    std::lock_guard entries_lock(mu_);
    entries_[key] = std::move(entry);
  }
  if (compacting_) pending_.push_back(line);
  if (fd_ < 0) {
    // An earlier compaction failed; the next Collect tries again, writing every entry.
    return core::UnavailableError("{}: not open (a compaction failed); kept in memory", path_);
  }
  RETURN_IF_ERROR(WriteAll(fd_, line, path_));
  ++lines_;
  if (sync_) {
    unsynced_ = true;
    sync_cv_.notify_one();
  }
  return core::Status::Ok();
}

core::Status FileNotificationLog::Collect(core::Timestamp now) {
  size_t live = 0;
  {
    std::lock_guard lock(mu_);
    std::erase_if(entries_, [now](const auto& kv) { return kv.second.expires_at <= now; });
    live = entries_.size();
  }
  bool due = false;
  {
    std::lock_guard lock(file_mu_);
    due = fd_ < 0 || lines_ > 2 * live + kCompactSlack;
  }
  // Expired and replaced lines stay in the file until it is compacted; Open drops them anyway.
  return due ? Compact() : core::Status::Ok();
}

size_t FileNotificationLog::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace nines::alerting
