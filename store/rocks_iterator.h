// BoundedIterator: a RocksDB iterator over [lower, upper) of one column family (private to
// store/). RocksDB keeps pointers to its bounds in ReadOptions for the iterator's lifetime, so
// the bound strings, their Slices and the iterator must live (and die) together: this is the one
// place that gets that right. A bound left std::nullopt is open.
//
// Thread-safety: as rocksdb::Iterator (one thread at a time). Neither copyable nor movable
// (RocksDB holds pointers into it).
#ifndef NINES_STORE_ROCKS_ITERATOR_H_
#define NINES_STORE_ROCKS_ITERATOR_H_

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>

#include <memory>
#include <optional>
#include <string>

namespace nines::store {

class BoundedIterator {
 public:
  // REQUIRES: `db` and `cf` outlive the iterator.
  BoundedIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                  std::optional<std::string> lower, std::optional<std::string> upper)
      : lower_(std::move(lower)), upper_(std::move(upper)) {
    rocksdb::ReadOptions ro;
    if (lower_) {
      lower_slice_ = rocksdb::Slice(*lower_);
      ro.iterate_lower_bound = &lower_slice_;
    }
    if (upper_) {
      upper_slice_ = rocksdb::Slice(*upper_);
      ro.iterate_upper_bound = &upper_slice_;
    }
    it_.reset(db->NewIterator(ro, cf));
  }
  BoundedIterator(const BoundedIterator&) = delete;
  BoundedIterator& operator=(const BoundedIterator&) = delete;

  rocksdb::Iterator* operator->() const { return it_.get(); }
  // The lower bound (REQUIRES: one was given), where a forward scan usually seeks first.
  const std::string& lower() const { return *lower_; }

 private:
  const std::optional<std::string> lower_, upper_;
  rocksdb::Slice lower_slice_, upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;  // last: destroyed before the bounds
};

}  // namespace nines::store

#endif  // NINES_STORE_ROCKS_ITERATOR_H_
