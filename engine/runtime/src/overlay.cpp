#include "overlay.h"

#include <algorithm>

namespace tramite::runtime {

using storage::InstanceRecord;

Status Overlay::unsupported(const char* what) {
  return Status(ErrorCode::kInternal, std::string("an overlay has no ") + what);
}

Status Overlay::needsWrite(const char* what) {
  needs_write_ = true;
  return Status(ErrorCode::kFailedPrecondition, std::string(what) + " needs a write transaction");
}

Status Overlay::prefetch(const std::vector<std::string>& ids) {
  std::vector<std::string> wanted;
  for (const std::string& id : ids) {
    if (!kept_.count(id) && !read_.count(id)) wanted.push_back(id);
  }
  if (wanted.empty()) return Status::ok();
  auto found = base()->instances(wanted);
  if (!found) return found.status();
  for (const std::string& id : wanted) read_[id] = std::nullopt;
  for (InstanceRecord& r : *found) read_[r.id] = std::move(r);
  return Status::ok();
}

std::vector<InstanceRecord> Overlay::keptRecords() const {
  std::vector<InstanceRecord> out;
  out.reserve(kept_order_.size());
  for (const std::string& id : kept_order_) out.push_back(kept_.at(id).record);
  return out;
}

Result<std::optional<InstanceRecord>> Overlay::lookup(const std::string& id) {
  if (auto it = kept_.find(id); it != kept_.end()) return std::optional(it->second.record);
  if (auto it = read_.find(id); it != read_.end()) return it->second;
  if (recent_) {
    if (auto row = recent_->get(id)) {
      from_recent_.push_back(id);
      return read_[id] = std::move(row);
    }
  }
  auto r = base()->instance(id);
  if (!r) return r.status();
  read_[id] = *r;
  return r;
}

Result<std::optional<InstanceRecord>> Overlay::instance(const std::string& id) {
  return lookup(id);
}

Result<std::vector<InstanceRecord>> Overlay::instances(const std::vector<std::string>& ids) {
  if (Status st = prefetch(ids); !st) return st;
  std::vector<InstanceRecord> out;
  for (const std::string& id : ids) {
    auto r = lookup(id);
    if (!r) return r.status();
    if (r->has_value()) out.push_back(std::move(**r));
  }
  return out;
}

Status Overlay::writeInstances(const std::vector<storage::InstanceWrite>& writes) {
  // Check every write before keeping any, so a refused call changes nothing.
  for (const storage::InstanceWrite& w : writes) {
    const std::string& id = w.record.id;
    auto current = lookup(id);
    if (!current) return current.status();
    if (w.expected_version == 0) {
      if (current->has_value()) {
        return Status(ErrorCode::kConflict, "instance " + id + " already exists");
      }
    } else if (!current->has_value() || (*current)->row_version != w.expected_version) {
      return Status(ErrorCode::kConflict, "instance " + id + " was changed concurrently");
    }
  }
  for (const storage::InstanceWrite& w : writes) {
    const std::string& id = w.record.id;
    auto it = kept_.find(id);
    if (it == kept_.end()) {
      kept_order_.push_back(id);
      kept_.emplace(id, Kept{w.record, w.expected_version});
    } else {
      it->second.record = w.record;  // the version checked against base stays the first one
    }
  }
  return Status::ok();
}

Result<std::optional<std::string>> Overlay::idempotentResult(const std::string& scope,
                                                             const std::string& key) {
  for (const storage::IdempotencyRecord& r : idempotency_) {
    if (r.scope == scope && r.key == key) return std::optional(r.result);
  }
  return base()->idempotentResult(scope, key);
}

Status Overlay::saveIdempotentResults(const std::vector<storage::IdempotencyRecord>& records) {
  for (const storage::IdempotencyRecord& r : records) {
    for (const storage::IdempotencyRecord& mine : idempotency_) {
      if (mine.scope == r.scope && mine.key == r.key) {
        return Status(ErrorCode::kConflict, "idempotency key '" + r.key + "' is taken");
      }
    }
    idempotency_.push_back(r);
  }
  return Status::ok();
}

Result<storage::DefinitionRecord> Overlay::addDefinition(const std::string& name,
                                                         const std::string& sha256,
                                                         const std::string& xml, TimePoint now) {
  if (writable_) return base()->addDefinition(name, sha256, xml, now);
  return needsWrite("adding a definition");
}

Result<bool> Overlay::claimTimer(std::int64_t id) {
  if (writable_) return base()->claimTimer(id);
  return needsWrite("claiming a timer");
}

Result<bool> Overlay::claimInbox(std::int64_t seq) {
  if (writable_) return base()->claimInbox(seq);
  return needsWrite("claiming an inbox event");
}

// Timer ids and affected-row counts are not known until the flush: they read as 0.
Result<std::int64_t> Overlay::addTimer(const storage::TimerRecord& timer) {
  ops_.emplace_back([timer](storage::Transaction& tx) { return tx.addTimer(timer).status(); });
  return std::int64_t{0};
}

Result<int> Overlay::cancelTimers(const std::string& instance_id, const std::string& sendid) {
  ops_.emplace_back([instance_id, sendid](storage::Transaction& tx) {
    return tx.cancelTimers(instance_id, sendid).status();
  });
  return 0;
}

Result<int> Overlay::cancelAllTimers(const std::string& instance_id) {
  ops_.emplace_back(
      [instance_id](storage::Transaction& tx) { return tx.cancelAllTimers(instance_id).status(); });
  return 0;
}

Status Overlay::enqueueInbox(const std::string& instance_id, const std::string& event,
                             TimePoint now) {
  ops_.emplace_back([instance_id, event, now](storage::Transaction& tx) {
    return tx.enqueueInbox(instance_id, event, now);
  });
  return Status::ok();
}

Status Overlay::deferEvent(const std::string& instance_id, const std::string& event,
                           TimePoint now) {
  ops_.emplace_back([instance_id, event, now](storage::Transaction& tx) {
    return tx.deferEvent(instance_id, event, now);
  });
  return Status::ok();
}

Result<int> Overlay::releaseDeferred(const std::string& instance_id) {
  ops_.emplace_back(
      [instance_id](storage::Transaction& tx) { return tx.releaseDeferred(instance_id).status(); });
  return 0;
}

Status Overlay::addOutbox(const storage::OutboxRecord& record) {
  ops_.emplace_back([record](storage::Transaction& tx) { return tx.addOutbox(record); });
  return Status::ok();
}

Status Overlay::appendHistory(const std::vector<storage::HistoryRecord>& rows) {
  history_.insert(history_.end(), rows.begin(), rows.end());
  return Status::ok();
}

bool Overlay::readUncheckedRecent() const {
  return std::any_of(from_recent_.begin(), from_recent_.end(),
                     [&](const std::string& id) { return !kept_.count(id); });
}

bool Overlay::empty() const {
  return kept_order_.empty() && task_order_.empty() && ops_.empty() && history_.empty() &&
         idempotency_.empty();
}

Status Overlay::flushTo(storage::Transaction& tx) const {
  std::vector<storage::InstanceWrite> writes;
  writes.reserve(kept_order_.size());
  for (const std::string& id : kept_order_) {
    const Kept& k = kept_.at(id);
    writes.push_back(storage::InstanceWrite{k.record, k.expected_version});
  }
  if (!writes.empty()) {
    if (Status st = tx.writeInstances(writes); !st) return st;
  }
  if (!task_order_.empty()) {
    std::vector<storage::TaskWrite> tasks;
    tasks.reserve(task_order_.size());
    for (const std::string& id : task_order_) tasks.push_back(tasks_.at(id));
    if (Status st = tx.writeTasks(tasks); !st) return st;
  }
  for (const Op& op : ops_) {
    if (Status st = op(tx); !st) return st;
  }
  if (!history_.empty()) {
    if (Status st = tx.appendHistory(history_); !st) return st;
  }
  if (!idempotency_.empty()) return tx.saveIdempotentResults(idempotency_);
  return Status::ok();
}

Status Overlay::replaceDirectory(const storage::DirectoryRecords& directory) {
  if (writable_) return base()->replaceDirectory(directory);
  return needsWrite("replacing the directory");
}

Status Overlay::writeTasks(const std::vector<storage::TaskWrite>& writes) {
  // As for instances: check every write first, keep the first version read from base.
  for (const storage::TaskWrite& w : writes) {
    auto current = task(w.record.id);
    if (!current) return current.status();
    if (w.expected_version == 0) {
      if (current->has_value()) {
        return Status(ErrorCode::kConflict, "task " + w.record.id + " already exists");
      }
    } else if (!current->has_value() || (*current)->row_version != w.expected_version) {
      return Status(ErrorCode::kConflict, "task " + w.record.id + " was changed concurrently");
    }
  }
  for (const storage::TaskWrite& w : writes) {
    auto it = tasks_.find(w.record.id);
    if (it == tasks_.end()) {
      task_order_.push_back(w.record.id);
      tasks_.emplace(w.record.id, w);
    } else {
      it->second.record = w.record;
    }
  }
  return Status::ok();
}

Result<std::optional<storage::TaskRecord>> Overlay::task(const std::string& id) {
  if (auto it = tasks_.find(id); it != tasks_.end()) return std::optional(it->second.record);
  if (auto it = base_task_.find(id); it != base_task_.end()) return it->second;
  auto stored = base()->task(id);
  if (stored) base_task_.emplace(id, *stored);
  return stored;
}

Result<std::vector<storage::TaskRecord>> Overlay::tasksOf(const std::string& instance_id) {
  auto cached = base_tasks_of_.find(instance_id);
  if (cached == base_tasks_of_.end()) {
    auto read = base()->tasksOf(instance_id);
    if (!read) return read.status();
    cached = base_tasks_of_.emplace(instance_id, std::move(read).value()).first;
  }
  std::vector<storage::TaskRecord> out;
  for (const storage::TaskRecord& t : cached->second) {
    if (!tasks_.count(t.id)) out.push_back(t);
  }
  for (const std::string& id : task_order_) {
    const storage::TaskRecord& t = tasks_.at(id).record;
    if (t.instance_id == instance_id) out.push_back(t);
  }
  std::sort(out.begin(), out.end(), [](const storage::TaskRecord& a, const storage::TaskRecord& b) {
    return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
  });
  return out;
}

Result<storage::DocumentRecord> Overlay::addDocument(const storage::DocumentRecord& record) {
  if (writable_) return base()->addDocument(record);
  return needsWrite("adding a document");
}

Status Overlay::addSignature(const storage::SignatureRecord& record) {
  if (writable_) return base()->addSignature(record);
  return needsWrite("adding a signature");
}

Status Overlay::putBlob(const std::string& sha256, const std::string& bytes) {
  if (writable_) return base()->putBlob(sha256, bytes);
  return needsWrite("storing a blob");
}

Result<std::vector<storage::TaskRecord>> Overlay::queryTasks(const storage::TaskQuery& query) {
  // A queue read sees the store as committed; the engine reads queues outside batches.
  if (tasks_.empty()) return base()->queryTasks(query);
  return needsWrite("querying tasks");
}

}  // namespace tramite::runtime
