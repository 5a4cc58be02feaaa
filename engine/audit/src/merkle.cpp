#include "tramite/audit/merkle.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace tramite::audit {

namespace {

// The largest power of two smaller than n (n > 1).
std::uint64_t splitOf(std::uint64_t n) {
  std::uint64_t k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

bool isPowerOfTwo(std::uint64_t n) {
  return n != 0 && (n & (n - 1)) == 0;
}

int log2Of(std::uint64_t power) {
  int level = 0;
  while ((std::uint64_t{1} << level) < power) ++level;
  return level;
}

int popcount(std::uint64_t n) {
  return __builtin_popcountll(n);
}

// Shifts fn and sn right together until fn's lowest bit is set or fn is 0 (RFC 9162 2.1.3.2).
void shiftUntilOdd(std::uint64_t& fn, std::uint64_t& sn) {
  while ((fn & 1) == 0 && fn != 0) {
    fn >>= 1;
    sn >>= 1;
  }
}

Status subproof(std::uint64_t m, std::uint64_t begin, std::uint64_t end, bool whole,
                const SubtreeSource& subtree, std::vector<Hash>& out) {
  const std::uint64_t n = end - begin;
  if (m == n) {
    if (whole) return Status::ok();
    auto h = rangeRoot(begin, end, subtree);
    if (!h) return h.status();
    out.push_back(*h);
    return Status::ok();
  }
  const std::uint64_t k = splitOf(n);
  if (m <= k) {
    if (Status st = subproof(m, begin, begin + k, whole, subtree, out); !st) return st;
    auto right = rangeRoot(begin + k, end, subtree);
    if (!right) return right.status();
    out.push_back(*right);
  } else {
    if (Status st = subproof(m - k, begin + k, end, false, subtree, out); !st) return st;
    auto left = rangeRoot(begin, begin + k, subtree);
    if (!left) return left.status();
    out.push_back(*left);
  }
  return Status::ok();
}

}  // namespace

Hash sha256(std::string_view bytes) {
  // Fetched once: OpenSSL 3's one-shot SHA256() looks the algorithm up on every call, which
  // cost about as much as hashing a history row.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  Hash h;
  if (md == nullptr ||
      EVP_Digest(bytes.data(), bytes.size(), h.data(), nullptr, md, nullptr) != 1) {
    throw std::runtime_error("OpenSSL has no usable SHA-256");  // a broken installation
  }
  return h;
}

std::string sha256Hex(std::string_view bytes) {
  return toHex(sha256(bytes));
}

Hash leafHash(std::string_view leaf) {
  thread_local std::string buf;  // the prefixed bytes, for the one-shot digest
  buf.assign(1, '\0');
  buf.append(leaf);
  return sha256(buf);
}

Hash nodeHash(const Hash& left, const Hash& right) {
  unsigned char buf[65];
  buf[0] = 0x01;
  std::copy(left.begin(), left.end(), buf + 1);
  std::copy(right.begin(), right.end(), buf + 33);
  return sha256(std::string_view(reinterpret_cast<const char*>(buf), sizeof buf));
}

Hash emptyRoot() {
  return sha256("");
}

std::string toHex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

Result<std::string> bytesFromHex(std::string_view text) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (text.size() % 2 != 0) {
    return Status(ErrorCode::kInvalidArgument, "hex text has an odd number of digits");
  }
  std::string out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = nibble(text[i]);
    const int lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return Status(ErrorCode::kInvalidArgument, "not a hex digit");
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::string toHex(const Hash& h) {
  return toHex(std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}

Result<Hash> hashFromHex(std::string_view text) {
  auto bytes = bytesFromHex(text);
  if (!bytes || bytes->size() != Hash().size()) {
    return Status(ErrorCode::kInvalidArgument, "a hash is 64 hexadecimal digits");
  }
  Hash h;
  std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

// ---- compact range ----------------------------------------------------------------------------

void CompactRange::append(const Hash& leaf, const Completed& completed) {
  Hash h = leaf;
  // Each trailing one bit of the old size is a subtree of the same size to merge with.
  std::uint64_t index = size_;
  int level = 0;
  while (index & 1) {
    h = nodeHash(hashes_.back(), h);
    hashes_.pop_back();
    index >>= 1;
    ++level;
    if (completed) completed(level, index, h);
  }
  hashes_.push_back(h);
  ++size_;
}

Hash CompactRange::root() const {
  if (hashes_.empty()) return emptyRoot();
  Hash h = hashes_.back();
  for (std::size_t i = hashes_.size() - 1; i-- > 0;) h = nodeHash(hashes_[i], h);
  return h;
}

std::string CompactRange::toText() const {
  std::string out;
  out.reserve(hashes_.size() * 64);
  for (const Hash& h : hashes_) out += toHex(h);
  return out;
}

Result<CompactRange> CompactRange::fromText(std::uint64_t size, std::string_view text) {
  const auto count = static_cast<std::size_t>(popcount(size));
  if (text.size() != count * 64) {
    return Status(ErrorCode::kInvalidArgument, "a compact range of " + std::to_string(size) +
                                                   " leaves holds " + std::to_string(count) +
                                                   " hashes");
  }
  CompactRange r;
  r.size_ = size;
  for (std::size_t i = 0; i < count; ++i) {
    auto h = hashFromHex(text.substr(i * 64, 64));
    if (!h) return h.status();
    r.hashes_.push_back(*h);
  }
  return r;
}

// ---- proofs -----------------------------------------------------------------------------------

Result<Hash> rangeRoot(std::uint64_t begin, std::uint64_t end, const SubtreeSource& subtree) {
  const std::uint64_t n = end - begin;
  if (n == 0) return emptyRoot();
  if (isPowerOfTwo(n) && (begin & (n - 1)) == 0) {  // a whole subtree, aligned
    const int level = log2Of(n);
    return subtree(level, begin >> level);
  }
  const std::uint64_t k = splitOf(n);
  auto left = rangeRoot(begin, begin + k, subtree);
  if (!left) return left;
  auto right = rangeRoot(begin + k, end, subtree);
  if (!right) return right;
  return nodeHash(*left, *right);
}

Result<std::vector<Hash>> inclusionProof(std::uint64_t index, std::uint64_t size,
                                         const SubtreeSource& subtree) {
  if (index >= size) {
    return Status(ErrorCode::kInvalidArgument, "entry " + std::to_string(index) +
                                                   " is not in a tree of " + std::to_string(size) +
                                                   " entries");
  }
  std::vector<Hash> path;
  std::uint64_t begin = 0;
  std::uint64_t end = size;
  // Walk down from the root; the siblings come out root first, the proof lists them leaf first.
  while (end - begin > 1) {
    const std::uint64_t k = splitOf(end - begin);
    Result<Hash> sibling = index < begin + k ? rangeRoot(begin + k, end, subtree)
                                             : rangeRoot(begin, begin + k, subtree);
    if (!sibling) return sibling.status();
    path.push_back(*sibling);
    if (index < begin + k) {
      end = begin + k;
    } else {
      begin += k;
    }
  }
  return std::vector<Hash>(path.rbegin(), path.rend());
}

Result<std::vector<Hash>> consistencyProof(std::uint64_t first, std::uint64_t second,
                                           const SubtreeSource& subtree) {
  if (first == 0 || first > second) {
    return Status(ErrorCode::kInvalidArgument, "a consistency proof needs 0 < first <= second");
  }
  std::vector<Hash> out;
  if (Status st = subproof(first, 0, second, true, subtree, out); !st) return st;
  return out;
}

bool verifyInclusion(const Hash& leaf, std::uint64_t index, std::uint64_t size,
                     const std::vector<Hash>& proof, const Hash& root) {
  if (index >= size) return false;
  std::uint64_t fn = index;
  std::uint64_t sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = nodeHash(p, r);
      if (!(fn & 1)) shiftUntilOdd(fn, sn);
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool verifyConsistency(std::uint64_t first, std::uint64_t second, const Hash& first_root,
                       const Hash& second_root, const std::vector<Hash>& proof) {
  if (first == 0 || first > second) return false;
  if (first == second) return proof.empty() && first_root == second_root;
  if (proof.empty()) return false;
  std::vector<Hash> path;
  if (isPowerOfTwo(first)) path.push_back(first_root);
  path.insert(path.end(), proof.begin(), proof.end());
  std::uint64_t fn = first - 1;
  std::uint64_t sn = second - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!(fn & 1)) shiftUntilOdd(fn, sn);
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == first_root && sr == second_root && sn == 0;
}

}  // namespace tramite::audit
