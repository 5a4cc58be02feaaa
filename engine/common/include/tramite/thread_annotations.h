// Clang's thread safety analysis (-Wthread-safety): which mutex guards which member, which
// functions must be called with it held. The annotations are checked in the clang build
// (the fuzz build compiles the annotated files with -Werror=thread-safety) and expand to
// nothing elsewhere.
#pragma once

#include <mutex>

#if defined(__clang__)
#define TRAMITE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define TRAMITE_THREAD_ANNOTATION(x)
#endif

#define TRAMITE_CAPABILITY(x) TRAMITE_THREAD_ANNOTATION(capability(x))
#define TRAMITE_SCOPED_CAPABILITY TRAMITE_THREAD_ANNOTATION(scoped_lockable)
#define TRAMITE_GUARDED_BY(x) TRAMITE_THREAD_ANNOTATION(guarded_by(x))
#define TRAMITE_REQUIRES(...) TRAMITE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define TRAMITE_ACQUIRE(...) TRAMITE_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define TRAMITE_RELEASE(...) TRAMITE_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRAMITE_EXCLUDES(...) TRAMITE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

namespace tramite {

// std::mutex, as a capability the analysis knows.
class TRAMITE_CAPABILITY("mutex") Mutex {
 public:
  void lock() TRAMITE_ACQUIRE() { mu_.lock(); }
  void unlock() TRAMITE_RELEASE() { mu_.unlock(); }
  // For std::unique_lock and condition variables (MutexLock::native).
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

// A lock of a Mutex held in a scope, which can be released and taken again inside it and
// waited on by a std::condition_variable through native() (a wait returns holding it, as
// the analysis assumes).
class TRAMITE_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) TRAMITE_ACQUIRE(mu) : lock_(mu.native()) {}
  ~MutexLock() TRAMITE_RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  void lock() TRAMITE_ACQUIRE() { lock_.lock(); }
  void unlock() TRAMITE_RELEASE() { lock_.unlock(); }
  std::unique_lock<std::mutex>& native() { return lock_; }

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace tramite
